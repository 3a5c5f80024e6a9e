import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DIM, type ChunkRequest } from '@vla/robot-core';
import {
  OpenpiClient,
  PolicyServer,
  ndarray,
  ndarrayToFloat64,
  observationToOpenpi,
  openpiActionSource,
  type NdArray,
} from '../src/index.js';
import { randomState, refGripperToRobot, refToDataset, rng, toyArm } from './helpers.js';
import { episodeFactory, expectedRobotRows } from './testEpisodes.js';

const metadata = { robot: 'toy-arm', action_horizon: 5, norm: ndarray(Float32Array.of(0.5, -1), [2]) };
let server: PolicyServer;
let factory: ReturnType<typeof episodeFactory>;

beforeAll(async () => {
  factory = episodeFactory(3);
  server = await PolicyServer.listen({ metadata, embodiment: toyArm, openEpisode: factory.open });
});
afterAll(async () => {
  await server.close();
});

function expectRows(actions: NdArray, expected: number[][]): void {
  expect(actions.dtype).toBe('<f4');
  expect(actions.shape).toEqual([expected.length, 4]);
  const got = ndarrayToFloat64(actions);
  expected.flat().forEach((v, j) => expect(got[j]).toBeCloseTo(Math.fround(v), 5));
}

/** A deterministic HWC image and its CHW layout. */
function image(h: number, w: number, seed: number): { hwc: Uint8Array; chw: Uint8Array } {
  const hwc = new Uint8Array(h * w * 3).map((_, j) => (j * 7 + seed) % 251);
  const chw = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) chw[c * h * w + y * w + x] = hwc[(y * w + x) * 3 + c];
  return { hwc, chw };
}

describe('PolicyServer', () => {
  it('answers GET /healthz with 200 OK and sends the metadata on connect', async () => {
    const res = await fetch(server.url.replace('ws://', 'http://') + '/healthz');
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('OK');
    expect((await fetch(server.url.replace('ws://', 'http://') + '/other')).status).toBe(426);
    const client = await OpenpiClient.connect(server.url);
    expect(client.metadata.robot).toBe('toy-arm');
    expect(client.metadata.action_horizon).toBe(5);
    expect(Array.from(ndarrayToFloat64(client.metadata.norm as NdArray))).toEqual([0.5, -1]);
    await client.close();
  });

  it('turns an observation dict into a request and the chunk into robot-unit actions', async () => {
    const client = await OpenpiClient.connect(server.url);
    const r = rng(5);
    const s1 = randomState(r);
    const head = image(6, 8, 1);
    const wrist = image(3, 5, 2);
    const reply = await client.infer({
      state: ndarray(Float32Array.from(s1), [4]),
      images: { head: ndarray(head.hwc, [6, 8, 3]), wrist: ndarray(wrist.chw, [3, 3, 5]) },
      prompt: 'stack the blocks',
    });
    const log = factory.logs[factory.logs.length - 1];
    const s1f = Array.from(Float32Array.from(s1));
    expectRows(reply.actions, expectedRobotRows(1, s1f));
    const req = log.requests[0];
    expect(req.robotType).toBe('toy-arm');
    expect(req.prompt).toBe('stack the blocks');
    expect(req.state.length).toBe(POLICY_DIM);
    refToDataset(s1f).forEach((v, i) => expect(req.state[i]).toBeCloseTo(v, 6));
    expect(Array.from(req.state.subarray(4))).toEqual(new Array(28).fill(0));
    expect(req.images.head).toMatchObject({ width: 8, height: 6 });
    expect(Array.from(req.images.head.data)).toEqual(Array.from(head.hwc));
    expect(req.images.wrist).toMatchObject({ width: 5, height: 3 });
    expect(Array.from(req.images.wrist.data)).toEqual(Array.from(wrist.hwc)); // CHW was transposed
    expect(Array.from(log.observed[0].state)).toEqual(s1f);
    expect(req.committed).toBeUndefined();
    expect(reply.policy_timing?.infer_ms).toBe(1001);
    expect(reply.server_timing?.infer_ms).toBeGreaterThanOrEqual(0);
    expect(reply.server_timing?.prev_total_ms).toBeUndefined();

    // Second request: float64 state, RTC keys; the committed rows are the unexecuted rest of reply 1.
    const s2 = randomState(r);
    const reply2 = await client.infer({
      state: ndarray(Float64Array.from(s2), [4]),
      actions_executed: 1,
      inference_delay: 2,
    });
    expectRows(reply2.actions, expectedRobotRows(2, s2));
    expect(reply2.server_timing?.prev_total_ms).toBeGreaterThanOrEqual(0);
    const c = log.requests[1].committed!;
    const prev = expectedRobotRows(1, s1f);
    expect(c).toMatchObject({ horizon: prev.length - 1, dim: POLICY_DIM, delaySteps: 2 });
    for (let i = 0; i < c.horizon; i++) {
      const ref = refToDataset(prev[1 + i]);
      for (let j = 0; j < 4; j++) expect(c.actions[i * POLICY_DIM + j]).toBeCloseTo(ref[j], 5);
      expect(c.actions[i * POLICY_DIM + 4]).toBe(0);
    }
    // Reply 4 is an absolute chunk: the state is not added back.
    // [3, 4, 3] is ambiguous; as upstream's image parsing, a leading 3 means CHW (H = 4, W = 3).
    const odd = image(4, 3, 9);
    await client.infer({
      state: ndarray(Float64Array.from(s2), [4]),
      images: { head: ndarray(odd.chw, [3, 4, 3]) },
    });
    expect(log.requests[2].images.head).toMatchObject({ width: 3, height: 4 });
    expect(Array.from(log.requests[2].images.head.data)).toEqual(Array.from(odd.hwc));
    const reply4 = await client.infer({ state: ndarray(Float64Array.from(s2), [4]) });
    expectRows(reply4.actions, expectedRobotRows(4, s2));
    // An inference delay beyond the committed rows is clamped to them (CommittedActions needs d ≤ horizon).
    await client.infer({
      state: ndarray(Float64Array.from(s2), [4]),
      actions_executed: 3,
      inference_delay: 10,
    });
    expect(log.requests[4].committed).toMatchObject({
      horizon: expectedRobotRows(4, s2).length - 3,
      delaySteps: 1,
    });
    await client.close();
    await expect.poll(() => log.closed).toBe(true);
  });

  it('serves 20 concurrent clients, each from its own episode', async () => {
    const before = factory.logs.length;
    const clients = await Promise.all(Array.from({ length: 20 }, () => OpenpiClient.connect(server.url)));
    expect(server.stats.connections).toBe(20);
    await Promise.all(
      clients.map(async (client, c) => {
        const r = rng(100 + c);
        if (c % 2 === 0) {
          for (let k = 1; k <= 4; k++) {
            const s = randomState(r);
            const reply = await client.infer({
              state: ndarray(Float64Array.from(s), [4]),
              prompt: `client ${c}`,
            });
            expectRows(reply.actions, expectedRobotRows(k, s));
          }
        } else {
          // Pipelined: four requests sent at once are answered in order.
          const states = [1, 2, 3, 4].map(() => randomState(r));
          const replies = await Promise.all(
            states.map((s) =>
              client.infer({ state: ndarray(Float64Array.from(s), [4]), prompt: `client ${c}` }),
            ),
          );
          replies.forEach((reply, k) => expectRows(reply.actions, expectedRobotRows(k + 1, states[k])));
        }
      }),
    );
    const logs = factory.logs.slice(before);
    expect(logs.length).toBe(20);
    for (const log of logs) {
      expect(log.requests.length).toBe(4);
      expect(new Set(log.requests.map((q) => q.prompt)).size).toBe(1);
      log.requests.forEach((q, k) =>
        expect(Array.from(q.state.subarray(0, 4))).toEqual(
          Array.from(Float32Array.from(refToDataset(log.observed[k].state))),
        ),
      );
    }
    await Promise.all(clients.map((cl) => cl.close()));
    await expect.poll(() => logs.every((l) => l.closed)).toBe(true);
    expect(server.stats.connections).toBe(0);
  });

  it('runs as an ActionSource through openpiActionSource, with RTC keys from `committed`', async () => {
    const client = await OpenpiClient.connect(server.url);
    const source = openpiActionSource(client, toyArm);
    const r = rng(9);
    const s = randomState(r);
    const head = image(6, 8, 4);
    const obs = {
      state: Float64Array.from(s),
      images: { head: { width: 8, height: 6, data: head.hwc, timestampMs: 0 } },
      timestampMs: 0,
    };
    const dict = observationToOpenpi(toyArm, obs, 'p');
    expect((dict.state as NdArray).dtype).toBe('<f8');
    const request: ChunkRequest = {
      robotType: 'toy-arm',
      state: Float32Array.from([...refToDataset(s), ...new Array(28).fill(0)]),
      images: obs.images,
      prompt: 'p',
      timestampMs: 0,
    };
    const chunk = await source(request);
    const log = factory.logs[factory.logs.length - 1];
    const sentState = Array.from(log.observed[0].state);
    sentState.forEach((v, i) => expect(v).toBeCloseTo(s[i], 5)); // robot units on the wire
    expect(Array.from(log.requests[0].images.head.data)).toEqual(Array.from(head.hwc));
    expect(chunk.absolute).toBe(true);
    expect(chunk.dim).toBe(POLICY_DIM);
    const exp = expectedRobotRows(1, sentState);
    expect(chunk.horizon).toBe(exp.length);
    exp.forEach((row, h) => {
      const ds = refToDataset(row);
      for (let i = 0; i < 4; i++) expect(chunk.actions[h * POLICY_DIM + i]).toBeCloseTo(ds[i], 5);
      for (let i = 4; i < POLICY_DIM; i++) expect(chunk.actions[h * POLICY_DIM + i]).toBe(0);
    });
    // A request that commits the last 3 rows of the 4-row reply: 1 row was executed.
    expect(exp.length).toBe(4);
    const committed = {
      actions: new Float32Array(3 * POLICY_DIM),
      horizon: 3,
      dim: POLICY_DIM,
      delaySteps: 2,
    };
    await source({ ...request, committed });
    const c = log.requests[1].committed!;
    expect(c.horizon).toBe(3);
    expect(c.delaySteps).toBe(2);
    expect(c.actions[0]).toBeCloseTo(refToDataset(exp[1])[0], 5);
    expect(c.actions[3]).toBeCloseTo(refToDataset([0, 0, 0, refGripperToRobot(0.1 + 0.05 * 1)])[3], 5);
    await client.close();
  });

  it('rejects connecting where no server listens', async () => {
    const gone = await PolicyServer.listen({ metadata: {}, embodiment: toyArm, openEpisode: factory.open });
    await gone.close();
    await expect(OpenpiClient.connect(gone.url)).rejects.toThrow(/cannot connect to ws:\/\/127\.0\.0\.1/);
  });

  it('reports a failing source to the client as the text of a 1011 close', async () => {
    const client = await OpenpiClient.connect(server.url);
    const errors = server.stats.errors;
    await expect(
      client.infer({ state: ndarray(new Float64Array(4), [4]), prompt: 'explode' }),
    ).rejects.toThrow(/code 1011\): Error: policy exploded/);
    await expect(client.infer({ state: ndarray(new Float64Array(4), [4]) })).rejects.toThrow(
      /policy exploded/,
    );
    expect(server.stats.errors).toBe(errors + 1);
    await client.close();
  });
});
