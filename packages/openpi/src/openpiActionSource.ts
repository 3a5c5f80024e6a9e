import {
  fromPolicyState,
  toAbsoluteChunk,
  type ActionSource,
  type ChunkRequest,
  type Embodiment,
} from '@vla/robot-core';
import { OpenpiError } from './openpiError.js';
import { ndarray, ndarrayToFloat64 } from './ndarray.js';
import type { OpenpiClient } from './openpiClient.js';

/**
 * A remote openpi policy as a robot-core ActionSource: each request's state (dataset units) goes out in
 * robot units with its camera frames (uint8 HWC) and prompt; the reply's `actions` `[H, n]` (robot units,
 * absolute targets) come back as a chunk in dataset units padded to 32 and marked `absolute: true`.
 * When a request carries real-time-chunking `committed` rows and this source's previous reply had H
 * rows, it sends `actions_executed = H − committed.horizon` and `inference_delay = committed.delaySteps`.
 */
export function openpiActionSource(client: OpenpiClient, embodiment: Embodiment): ActionSource {
  const n = embodiment.dims.length;
  let prevHorizon: number | undefined;
  return async (request: ChunkRequest) => {
    const robotState = fromPolicyState(embodiment, request.state);
    const images: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(request.images))
      images[name] = ndarray(f.data, [f.height, f.width, 3], '|u1');
    const dict: Record<string, unknown> = { state: ndarray(robotState, [n], '<f8'), images };
    if (request.prompt !== undefined) dict.prompt = request.prompt;
    const committed = request.committed;
    if (committed && prevHorizon !== undefined && committed.horizon <= prevHorizon) {
      dict.actions_executed = prevHorizon - committed.horizon;
      dict.inference_delay = committed.delaySteps;
    }
    const reply = await client.infer(dict);
    const a = reply.actions;
    if (a.shape.length !== 2 || a.shape[1] !== n || a.shape[0] < 1) {
      throw new OpenpiError(
        `openpi reply "actions": shape [${a.shape.join(', ')}], ${embodiment.robotType} needs [H, ${n}]`,
      );
    }
    if (!/^<f[248]$/.test(a.dtype))
      throw new OpenpiError(`openpi reply "actions": dtype ${a.dtype} is not a float dtype`);
    const horizon = a.shape[0];
    const values = ndarrayToFloat64(a);
    prevHorizon = horizon;
    return toAbsoluteChunk(
      embodiment,
      Array.from({ length: horizon }, (_, h) => values.subarray(h * n, (h + 1) * n)),
    );
  };
}
