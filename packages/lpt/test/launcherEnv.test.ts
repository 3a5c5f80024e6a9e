import { describe, expect, it } from 'vitest';
import { resolveLauncher } from '../src/index';

describe('resolveLauncher: each launcher', () => {
  it('mpirun (Open MPI)', () => {
    const env = { OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '8', OMPI_COMM_WORLD_LOCAL_RANK: '1' };
    expect(resolveLauncher({ env })).toEqual({
      rank: 3,
      worldSize: 8,
      launcher: 'mpirun',
      rankFrom: 'OMPI_COMM_WORLD_RANK',
      worldSizeFrom: 'OMPI_COMM_WORLD_SIZE',
    });
  });

  it('torchrun-style RANK / WORLD_SIZE', () => {
    const info = resolveLauncher({ env: { RANK: '0', WORLD_SIZE: '2', LOCAL_RANK: '0' } });
    expect(info).toMatchObject({ rank: 0, worldSize: 2, launcher: 'torchrun', rankFrom: 'RANK' });
  });

  it('Kubernetes Indexed Job: JOB_COMPLETION_INDEX with WORLD_SIZE, JOB_COMPLETIONS or the option', () => {
    expect(resolveLauncher({ env: { JOB_COMPLETION_INDEX: '5', WORLD_SIZE: '6' } })).toMatchObject({
      rank: 5,
      worldSize: 6,
      launcher: 'kubernetes-indexed-job',
      worldSizeFrom: 'WORLD_SIZE',
    });
    expect(resolveLauncher({ env: { JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '4' } })).toMatchObject({
      rank: 1,
      worldSize: 4,
      worldSizeFrom: 'JOB_COMPLETIONS',
    });
    // WORLD_SIZE is read before JOB_COMPLETIONS.
    expect(
      resolveLauncher({ env: { JOB_COMPLETION_INDEX: '1', WORLD_SIZE: '3', JOB_COMPLETIONS: '4' } })
        .worldSize,
    ).toBe(3);
    expect(resolveLauncher({ env: { JOB_COMPLETION_INDEX: '2' }, worldSize: 3 })).toMatchObject({
      rank: 2,
      worldSize: 3,
      launcher: 'kubernetes-indexed-job',
      rankFrom: 'JOB_COMPLETION_INDEX',
      worldSizeFrom: 'options.worldSize',
    });
  });

  it('Kubernetes Indexed Job without any world size is an error that says what to set', () => {
    expect(() => resolveLauncher({ env: { JOB_COMPLETION_INDEX: '2' } })).toThrow(
      /JOB_COMPLETION_INDEX=2 is set \(kubernetes-indexed-job\) but no world size was found: set WORLD_SIZE or JOB_COMPLETIONS, or pass options.worldSize/,
    );
  });

  it('explicit options', () => {
    expect(resolveLauncher({ rank: 1, worldSize: 4, env: {} })).toEqual({
      rank: 1,
      worldSize: 4,
      launcher: 'options',
      rankFrom: 'options.rank',
      worldSizeFrom: 'options.worldSize',
    });
  });

  it('nothing at all: a single process, rank 0 of 1', () => {
    expect(resolveLauncher({ env: {} })).toMatchObject({ rank: 0, worldSize: 1, launcher: 'single-process' });
    expect(resolveLauncher({ env: {}, worldSize: 1 })).toMatchObject({ rank: 0, worldSize: 1 });
    // Empty variables count as unset (a template that exports RANK= with no value).
    expect(resolveLauncher({ env: { RANK: '', WORLD_SIZE: '' } })).toMatchObject({
      launcher: 'single-process',
    });
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      for (const k of ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'JOB_COMPLETION_INDEX'])
        delete process.env[k];
      process.env.RANK = '1';
      process.env.WORLD_SIZE = '2';
      expect(resolveLauncher()).toMatchObject({ rank: 1, worldSize: 2, launcher: 'torchrun' });
    } finally {
      process.env = saved;
    }
  });
});

describe('resolveLauncher: precedence', () => {
  it('mpirun over torchrun over Kubernetes', () => {
    const all = {
      OMPI_COMM_WORLD_RANK: '1',
      OMPI_COMM_WORLD_SIZE: '2',
      RANK: '5',
      WORLD_SIZE: '8',
      JOB_COMPLETION_INDEX: '0',
      JOB_COMPLETIONS: '3',
    };
    expect(resolveLauncher({ env: all })).toMatchObject({ rank: 1, worldSize: 2, launcher: 'mpirun' });
    const { OMPI_COMM_WORLD_RANK: _r, OMPI_COMM_WORLD_SIZE: _s, ...noMpi } = all;
    expect(resolveLauncher({ env: noMpi })).toMatchObject({ rank: 5, worldSize: 8, launcher: 'torchrun' });
  });

  it('options win field by field over the environment', () => {
    const env = { RANK: '1', WORLD_SIZE: '4' };
    expect(resolveLauncher({ env, rank: 3 })).toMatchObject({
      rank: 3,
      worldSize: 4,
      rankFrom: 'options.rank',
      worldSizeFrom: 'WORLD_SIZE',
    });
    expect(resolveLauncher({ env, worldSize: 2 })).toMatchObject({ rank: 1, worldSize: 2, rankFrom: 'RANK' });
    expect(resolveLauncher({ env, rank: 0, worldSize: 1 })).toMatchObject({ launcher: 'options', rank: 0 });
  });

  it('a mismatched launcher world size does not leak from another launcher', () => {
    // mpirun detected: WORLD_SIZE (torchrun's) is not a fallback for a missing OMPI_COMM_WORLD_SIZE.
    expect(() => resolveLauncher({ env: { OMPI_COMM_WORLD_RANK: '0', WORLD_SIZE: '4' } })).toThrow(
      /OMPI_COMM_WORLD_RANK=0 is set \(mpirun\) but no world size was found: set OMPI_COMM_WORLD_SIZE/,
    );
  });
});

describe('resolveLauncher: bad values', () => {
  it.each([
    [{ RANK: '1.5', WORLD_SIZE: '4' }, /RANK="1.5" is not a non-negative integer/],
    [{ RANK: '-1', WORLD_SIZE: '4' }, /RANK="-1" is not a non-negative integer/],
    [{ RANK: 'abc', WORLD_SIZE: '4' }, /RANK="abc"/],
    [{ RANK: ' 1', WORLD_SIZE: '4' }, /RANK=" 1"/],
    [{ RANK: '0', WORLD_SIZE: 'four' }, /WORLD_SIZE="four" is not a non-negative integer/],
    [{ RANK: '0', WORLD_SIZE: '0' }, /world size must be at least 1, got 0 \(WORLD_SIZE\)/],
    [{ RANK: '4', WORLD_SIZE: '4' }, /rank 4 \(RANK\) must be less than the world size 4 \(WORLD_SIZE\)/],
    [
      { OMPI_COMM_WORLD_RANK: '9', OMPI_COMM_WORLD_SIZE: '2' },
      /rank 9 \(OMPI_COMM_WORLD_RANK\) must be less/,
    ],
    [
      { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '3' },
      /rank 3 \(JOB_COMPLETION_INDEX\) must be less than the world size 3 \(JOB_COMPLETIONS\)/,
    ],
    [{ JOB_COMPLETION_INDEX: 'x', WORLD_SIZE: '3' }, /JOB_COMPLETION_INDEX="x"/],
    [{ RANK: '99999999999999999999', WORLD_SIZE: '4' }, /RANK="99999999999999999999" is too large/],
    [{ RANK: '0' }, /RANK=0 is set \(torchrun\) but no world size/],
  ])('env %j → error', (env, message) => {
    expect(() => resolveLauncher({ env })).toThrow(message);
  });

  it('bad options', () => {
    expect(() => resolveLauncher({ env: {}, rank: -1, worldSize: 2 })).toThrow(
      /options.rank must be a non-negative integer, got -1/,
    );
    expect(() => resolveLauncher({ env: {}, rank: 0, worldSize: 2.5 })).toThrow(/options.worldSize.*2\.5/);
    expect(() => resolveLauncher({ env: {}, rank: 2, worldSize: 2 })).toThrow(
      /rank 2 \(options.rank\) must be less/,
    );
    expect(() => resolveLauncher({ env: {}, rank: 1 })).toThrow(
      /rank 1 \(options.rank\) given but no world size/,
    );
    expect(() => resolveLauncher({ env: {}, worldSize: 4 })).toThrow(
      /world size 4 \(options.worldSize\) given but no rank/,
    );
  });
});
