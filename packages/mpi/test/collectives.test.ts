// Two real ranks under mpirun run test/ranks/collectives.mjs; here each result is checked against
// the root's data (broadcast) or a sum computed from both ranks' own inputs (all-reduce).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, mpirun, readBytes, readJson, type RankRun } from './mpirun';

const SIZES = [0, 1, 7, 1_000_003];
// Sizes above the addon's 16 MiB slice, so MPI gets several calls.
const SLICED: Record<string, number> = { u8: 16_777_219, f64: 2_500_001 };
const sizesOf = (tag: string): number[] => (SLICED[tag] ? [...SIZES, SLICED[tag]] : SIZES);
const RANKS = [0, 1];

type Summable = Float32Array | Float64Array | Int32Array;
const SUM_TYPES: Array<[string, (bytes: Uint8Array) => Summable, (a: number, b: number) => number]> = [
  ['f32', (b) => new Float32Array(b.buffer), (a, b) => Math.fround(a + b)],
  ['f64', (b) => new Float64Array(b.buffer), (a, b) => a + b],
  ['i32', (b) => new Int32Array(b.buffer), (a, b) => (a + b) | 0],
];

interface Report {
  rank: number;
  size: number;
  sameObject: boolean;
  queuedResult: number;
  settledOrder: number[];
  mismatchSum: string | null;
  mismatchBroadcast: string | null;
  mismatchRoot: string | null;
  afterMismatch: number;
  typeErrors: Record<string, string | null>;
  finalizeWhilePending: string | null;
  afterFinalize: Record<string, string | boolean | null>;
}

/** Index of the first element where `actual` differs from `expected`, or -1 (one assertion per array). */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return i;
  return -1;
}

let run: RankRun;
let reports: Report[];

beforeAll(async () => {
  run = await mpirun('collectives.mjs');
  if (run.code !== 0) throw new Error(`mpirun exited with ${run.code}\n${run.stdout}\n${run.stderr}`);
  reports = RANKS.map((rank) => readJson<Report>(run, `report-r${rank}`));
}, 60_000);

afterAll(() => cleanUp(run));

describe('Mpi under mpirun -np 2', () => {
  it('gives each process its rank and the world size, and init is idempotent', () => {
    expect(reports.map((r) => [r.rank, r.size])).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(reports.every((r) => r.sameObject)).toBe(true);
  });

  for (const tag of ['f32', 'u8'])
    for (const n of sizesOf(tag))
      for (const root of n === 7 ? RANKS : [0])
        it(`broadcast ${tag} × ${n} from rank ${root} gives every rank the root's bytes`, () => {
          const name = `bcast-${tag}-${n}-root${root}`;
          const sent = readBytes(run, `${name}-in`);
          expect(sent.length).toBe(n * (tag === 'f32' ? 4 : 1));
          for (const rank of RANKS)
            expect(firstDifference(readBytes(run, `${name}-r${rank}`), sent)).toBe(-1);
        });

  for (const [tag, view, add] of SUM_TYPES)
    for (const n of sizesOf(tag))
      it(`allReduceSum ${tag} × ${n} equals the element-wise sum of both ranks' inputs`, () => {
        const [a, b] = RANKS.map((rank) => view(readBytes(run, `sum-${tag}-${n}-in-r${rank}`)));
        expect(a.length).toBe(n);
        const expected = a.map((value, i) => add(value, b[i]));
        if (n > 1) expect(firstDifference(a, b)).not.toBe(-1); // the ranks' inputs differ
        for (const rank of RANKS)
          expect(firstDifference(view(readBytes(run, `sum-${tag}-${n}-r${rank}`)), expected)).toBe(-1);
      });

  it('all-reduces only a view inside a shared WebAssembly.Memory (byteOffset 20, 11 elements)', () => {
    const [a, b] = RANKS.map((rank) => new Float32Array(readBytes(run, `offset-sum-in-r${rank}`).buffer));
    RANKS.forEach((rank, i) => {
      const own = [a, b][i];
      const expected = own.map((value, k) => (k >= 5 && k < 16 ? Math.fround(a[k] + b[k]) : value));
      const result = new Float32Array(readBytes(run, `offset-sum-r${rank}`).buffer);
      expect(firstDifference(result, expected)).toBe(-1);
    });
  });

  it('broadcasts only a DataView window (bytes 3..11) of a larger buffer', () => {
    const [rootBytes, ownBytes] = RANKS.map((rank) => readBytes(run, `offset-bcast-in-r${rank}`));
    const expected = ownBytes.map((value, k) => (k >= 3 && k < 12 ? rootBytes[k] : value));
    expect(firstDifference(readBytes(run, 'offset-bcast-r1'), expected)).toBe(-1);
    expect(firstDifference(readBytes(run, 'offset-bcast-r0'), rootBytes)).toBe(-1);
  });

  it('runs collectives queued without awaiting in call order', () => {
    for (const report of reports) {
      // broadcast from rank 1 ([2] everywhere), then the sum (4); the reverse order would give 3.
      expect(report.queuedResult).toBe(4);
      expect(report.settledOrder).toEqual(Array.from({ length: 15 }, (_, i) => i));
    }
  });

  it('rejects mismatched lengths and roots on every rank, naming both, and carries on', () => {
    for (const report of reports) {
      expect(report.mismatchSum).toMatch(
        /^MpiError: allReduceSum: .*smallest 5 elements, largest 6 elements/,
      );
      expect(report.mismatchBroadcast).toMatch(/^MpiError: broadcast: .*smallest 9 bytes, largest 11 bytes/);
      expect(report.mismatchRoot).toMatch(/^MpiError: broadcast: root mismatch.*smallest 0, largest 1/);
      expect(report.afterMismatch).toBe(2); // 0.5 + 1.5
    }
  });

  it('names unsupported element types and bad arguments', () => {
    const errors = reports[0].typeErrors;
    expect(errors.uint8).toMatch(/^MpiError: allReduceSum: unsupported element type Uint8Array/);
    expect(errors.dataView).toMatch(/^MpiError: allReduceSum: unsupported element type DataView/);
    expect(errors.bigint).toMatch(/^MpiError: allReduceSum: unsupported element type BigInt64Array/);
    expect(errors.array).toBe('MpiError: broadcast: expected a TypedArray or DataView, got Array');
    expect(errors.root).toBe('MpiError: broadcast: root 2 is not a rank of a world of size 2');
  });

  it('refuses finalize while a collective is queued, and every call after finalize', () => {
    for (const report of reports) {
      expect(report.finalizeWhilePending).toMatch(/^MpiError: finalize: 1 collective\(s\) still queued/);
      expect(report.afterFinalize).toEqual({
        finalized: true,
        barrier: 'MpiError: barrier after finalize',
        allReduceSum: 'MpiError: allReduceSum after finalize',
        broadcast: 'MpiError: broadcast after finalize',
        finalize: 'MpiError: finalize after finalize',
        init: 'MpiError: Mpi.init after finalize: MPI cannot be initialised twice in one process',
        instance: 'MpiError: Mpi.instance after finalize',
      });
    }
  });
});
