// The policy server under 20 concurrent openpi clients, in process: the real server (serveCheckpoint,
// a tiny checkpoint), 20 real WebSocket clients each with its own random camera frame and state,
// all sending at once. Requests that wait together run as GPU batches; every client gets the chunk
// its own observation gets when served alone on a fresh connection (its own episode), so no reply
// is another client's and batching changes nothing but the float rounding.
import { afterAll, describe, expect, it } from 'vitest';
import { OpenpiClient, ndarray, ndarrayToFloat64 } from '@vla/openpi';
import { rng } from '@vla/policy-runtime/testing';
import { LIFT2 } from '@vla/robots-arx';
import { serveCheckpoint, type ServedCheckpoint } from '../src/serve.js';
import { tinyLift2Checkpoint } from './checkpoint.js';
import './setup.js';

const CLIENTS = 20;
const SIZE = 24;

/** Client i's observation: a random head frame and a random state within the joint limits. */
function observation(i: number): Record<string, unknown> {
  const r = rng(1000 + i);
  const image = new Uint8Array(SIZE * SIZE * 3);
  for (let k = 0; k < image.length; k++) image[k] = Math.floor(r() * 256);
  const state = LIFT2.dims.map((d) => d.lower + (0.25 + 0.5 * r()) * (d.upper - d.lower));
  return {
    state: ndarray(Float32Array.from(state), [state.length]),
    images: { head: ndarray(image, [SIZE, SIZE, 3]) },
    prompt: `put the ${i % 2 ? 'red' : 'blue'} cube in the bin`,
  };
}

let served: ServedCheckpoint | undefined;
afterAll(async () => {
  await served?.close();
});

describe('vla-control serve: concurrent clients', () => {
  it('20 clients at once are batched on the GPU and each gets its own chunk', async () => {
    served = await serveCheckpoint(await tinyLift2Checkpoint(7, 6), { port: 0, maxBatch: 8, steps: 1 });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => OpenpiClient.connect(served!.url)),
    );
    const before = served.service.stats;
    const replies = await Promise.all(clients.map((c, i) => c.infer(observation(i))));
    const stats = served.service.stats;
    await Promise.all(clients.map((c) => c.close()));

    expect(stats.requests - before.requests).toBe(CLIENTS);
    // Batches formed: fewer GPU runs than requests, none above maxBatch.
    expect(stats.batches - before.batches).toBeLessThan(CLIENTS);
    expect(stats.largestBatch).toBeGreaterThan(1);
    expect(stats.largestBatch).toBeLessThanOrEqual(8);

    const chunks = replies.map((r) => ndarrayToFloat64(r.actions));
    for (const r of replies) expect(r.actions.shape).toEqual([6, LIFT2.dims.length]);
    // Distinct observations give distinct chunks (so equality below is not vacuous).
    expect(chunks[0]).not.toEqual(chunks[1]);

    // A few clients again, each alone on a fresh connection (a new episode, like the first request).
    for (const i of [0, 7, 13, 19]) {
      const alone = await OpenpiClient.connect(served.url);
      const reply = await alone.infer(observation(i));
      await alone.close();
      const a = ndarrayToFloat64(reply.actions);
      let worst = 0;
      for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - chunks[i][k]));
      expect(worst, `client ${i}`).toBeLessThan(1e-4);
    }
  });
});
