// Jobs that go wrong must end, not hang: a rank that dies, a rank that never joins (timeout), and
// a process outside mpirun works as a world of one.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, mpirun, node, readJson, type RankRun } from './mpirun';

let run: RankRun | undefined;
afterEach(() => cleanUp(run));

describe('failure handling', () => {
  // The vitest timeout is the bound: a hang fails the test instead of blocking the suite.
  it('ends the job with a non-zero status when a rank exits mid-collective', async () => {
    run = await mpirun('rankExits.mjs');
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain('unreachable');
  }, 30_000);

  it('aborts the job with a message when a collective overruns VLA_MPI_TIMEOUT_MS', async () => {
    run = await mpirun('stuckRank.mjs', { VLA_MPI_TIMEOUT_MS: '300' });
    expect(run.code).toBe(124);
    expect(run.stderr).toMatch(/@vla\/mpi: rank 0 of 2: allReduceSum did not finish within 300 ms/);
    expect(run.stdout).not.toContain('unreachable');
  }, 30_000);

  it('works outside mpirun as a world of one, and refuses use before init', async () => {
    run = await node('singleton.mjs');
    expect(run.code, run.stderr).toBe(0);
    expect(readJson(run, 'singleton')).toEqual({
      launch: null,
      beforeInit: 'MpiError: Mpi.instance before Mpi.init()',
      rank: 0,
      size: 1,
      timeoutMs: 60_000,
      initAgainOtherTimeout:
        'MpiError: Mpi.init: already initialised with timeoutMs 60000, called again with 5',
      sum: [1.5, -2, 3],
      broadcast: [9, 8, 7],
    });
  }, 30_000);
});
