// Checks that need no MPI: launcher variables, the timeout setting, element types, and that
// importing the package loads nothing native.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS, Mpi, MpiError, mpiLaunch } from '../src';
import { resolveTimeoutMs } from '../src/collectiveTimeout';
import { requireSummable, requireView } from '../src/elementTypes';

describe('mpiLaunch', () => {
  it('reads rank and size from Open MPI variables, or null outside mpirun', () => {
    expect(mpiLaunch({ OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '8' })).toEqual({ rank: 3, size: 8 });
    expect(mpiLaunch({ RANK: '1', WORLD_SIZE: '2' })).toBeNull();
  });

  it('names the variable that is missing or invalid', () => {
    expect(() => mpiLaunch({ OMPI_COMM_WORLD_RANK: '0' })).toThrow(/OMPI_COMM_WORLD_SIZE is not set/);
    expect(() => mpiLaunch({ OMPI_COMM_WORLD_RANK: 'x', OMPI_COMM_WORLD_SIZE: '2' })).toThrow(
      /OMPI_COMM_WORLD_RANK="x" is not a non-negative integer/,
    );
    expect(() => mpiLaunch({ OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '2' })).toThrow(MpiError);
  });
});

describe('resolveTimeoutMs', () => {
  it('prefers the option, then VLA_MPI_TIMEOUT_MS, then the default', () => {
    expect(resolveTimeoutMs(250, { VLA_MPI_TIMEOUT_MS: '999' })).toBe(250);
    expect(resolveTimeoutMs(undefined, { VLA_MPI_TIMEOUT_MS: '999' })).toBe(999);
    expect(resolveTimeoutMs(undefined, {})).toBe(DEFAULT_TIMEOUT_MS);
    expect(DEFAULT_TIMEOUT_MS).toBe(600_000);
  });

  it('rejects values that are not positive milliseconds, naming the source', () => {
    expect(() => resolveTimeoutMs(undefined, { VLA_MPI_TIMEOUT_MS: '10s' })).toThrow(
      /VLA_MPI_TIMEOUT_MS="10s"/,
    );
    expect(() => resolveTimeoutMs(0, {})).toThrow(/timeoutMs must be/);
    expect(() => resolveTimeoutMs(2 ** 31, {})).toThrow(/timeoutMs must be/);
  });
});

describe('element types', () => {
  it('accepts Float32Array, Float64Array and Int32Array for the sum and names any other type', () => {
    for (const view of [new Float32Array(1), new Float64Array(1), new Int32Array(1)])
      expect(() => requireSummable('allReduceSum', view)).not.toThrow();
    expect(() => requireSummable('allReduceSum', new Uint16Array(1))).toThrow(
      /unsupported element type Uint16Array/,
    );
    expect(() => requireSummable('allReduceSum', new BigUint64Array(1))).toThrow(/BigUint64Array/);
  });

  it('accepts any ArrayBufferView for broadcast', () => {
    expect(() => requireView('broadcast', new DataView(new ArrayBuffer(2)))).not.toThrow();
    expect(() => requireView('broadcast', new ArrayBuffer(2))).toThrow(
      /expected a TypedArray or DataView, got ArrayBuffer/,
    );
    expect(() => requireView('broadcast', null)).toThrow(/got null/);
  });
});

describe('Mpi before init', () => {
  it('throws from instance() and from the constructor, without loading the addon', () => {
    expect(() => Mpi.instance()).toThrow(/before Mpi.init/);
    const construct = Mpi as unknown as new (token: symbol) => Mpi;
    expect(() => new construct(Symbol('other'))).toThrow(/use Mpi.init/);
  });
});
