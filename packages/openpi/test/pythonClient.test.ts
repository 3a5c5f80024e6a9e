import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DIM } from '@vla/robot-core';
import { PolicyServer, ndarray } from '../src/index.js';
import { findPython, refToDataset, toyArm } from './helpers.js';
import { episodeFactory, expectedRobotRows } from './testEpisodes.js';

const script = fileURLToPath(new URL('../python/openpi_client_check.py', import.meta.url));
const python = findPython();
const why = 'missing' in python ? ` (skipped: ${python.missing})` : '';

let server: PolicyServer;
let factory: ReturnType<typeof episodeFactory>;

beforeAll(async () => {
  factory = episodeFactory(5);
  const metadata = { robot: 'toy-arm', scale: ndarray(Float32Array.of(2, 3), [2]) };
  server = await PolicyServer.listen({ metadata, embodiment: toyArm, openEpisode: factory.open });
});
afterAll(async () => {
  await server.close();
});

/** Runs the python client asynchronously (the server lives in this process). */
function runPython(args: string[]): Promise<{ code: number; out: Record<string, unknown>; stderr: string }> {
  const cmd = (python as { cmd: string }).cmd;
  return new Promise((resolve) => {
    execFile(cmd, [script, ...args], { timeout: 50_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      resolve({
        code: typeof code === 'number' ? code : -1,
        out: stdout ? (JSON.parse(stdout) as Record<string, unknown>) : {},
        stderr,
      });
    });
  });
}

type PyReply = {
  ok: boolean;
  dtype: string;
  shape: number[];
  actions: number[];
  policy_timing: { infer_ms: number };
  server_timing: Record<string, number>;
};

/** The pixel the python script puts at flat HWC index j of request r. */
const pyPixel = (j: number, r: number) => (j * 7 + r) % 251;

describe('python client (Debian msgpack + numpy + websockets)', () => {
  it.skipIf('missing' in python)(
    `talks to the server and gets robot-unit actions${why}`,
    async () => {
      const state = [0.5, -1.25, 0.75, 0.02];
      const { code, out, stderr } = await runPython([
        'infer',
        '--url',
        server.url,
        '--state',
        state.join(','),
        '--image',
        'head:6x8:hwc',
        '--image',
        'wrist:3x5:chw',
        '--prompt',
        'pick the cube',
        '--requests',
        '3',
        '--rtc',
      ]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(out.metadata).toEqual({ robot: 'toy-arm', scale: { $nd: [2, 3], dtype: '<f4', shape: [2] } });
      const replies = out.replies as PyReply[];
      expect(replies.length).toBe(3);
      const s32 = Array.from(Float32Array.from(state));
      replies.forEach((rep, r) => {
        const exp = expectedRobotRows(r + 1, s32);
        expect(rep.ok).toBe(true);
        expect(rep.dtype).toBe('<f4');
        expect(rep.shape).toEqual([exp.length, 4]);
        exp.flat().forEach((v, j) => expect(rep.actions[j]).toBeCloseTo(v, 5));
        expect(rep.policy_timing.infer_ms).toBe(1001 + r);
        expect(rep.server_timing.infer_ms).toBeGreaterThanOrEqual(0);
        expect('prev_total_ms' in rep.server_timing).toBe(r > 0);
      });
      const log = factory.logs[factory.logs.length - 1];
      expect(log.requests.length).toBe(3);
      log.requests.forEach((q, r) => {
        expect(q.prompt).toBe('pick the cube');
        expect(q.images.head).toMatchObject({ width: 8, height: 6 });
        expect(q.images.wrist).toMatchObject({ width: 5, height: 3 });
        expect(Array.from(q.images.head.data)).toEqual(
          Array.from({ length: 6 * 8 * 3 }, (_, j) => pyPixel(j, r)),
        );
        expect(Array.from(q.images.wrist.data)).toEqual(
          Array.from({ length: 3 * 5 * 3 }, (_, j) => pyPixel(j, r)),
        );
        refToDataset(s32).forEach((v, i) => expect(q.state[i]).toBeCloseTo(v, 6));
      });
      // --rtc sent actions_executed = np.int64(1) and inference_delay = 1 after the first reply.
      const prev = expectedRobotRows(1, s32);
      expect(log.requests[0].committed).toBeUndefined();
      const c = log.requests[1].committed!;
      expect(c).toMatchObject({ horizon: prev.length - 1, delaySteps: 1, dim: POLICY_DIM });
      refToDataset(prev[1]).forEach((v, i) => expect(c.actions[i]).toBeCloseTo(v, 5));
      await expect.poll(() => log.closed).toBe(true);
    },
    60_000,
  );

  it.skipIf('missing' in python)(
    `receives the server's error text before the 1011 close${why}`,
    async () => {
      const { code, out } = await runPython(['infer', '--url', server.url, '--state', '1,2,3']);
      expect(code).toBe(2);
      expect(out.error).toMatch(/"state": shape \[3\], toy-arm needs \[4\]/);
    },
    60_000,
  );
});
