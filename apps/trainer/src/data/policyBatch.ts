// Raw samples → the policy's training batch. Everything between robot units and the network goes
// through the processor (images resized with padding on the GPU, prompts, state normalised, actions
// made deltas and normalised), so training sees exactly what deployment will feed the policy.
import type {
  FrameLatents,
  InternVLAA1Config,
  PolicyBatch,
  PolicyProcessor,
  RgbFrame,
  ViewFrames,
} from '@vla/internvla-a1';
import type { CameraSlot, Sample } from '@vla/lerobot';
import { tensor } from '@vla/tensor-webgpu';
import { checkProcessorConfig } from './datasetLayout.js';
import type { TrainingSample } from './trainingData.js';
import { TrainingDataError } from './trainingDataError.js';

/** Index of the past (t−15), current (t) and future (t+15) frames among a sample's image offsets. */
const PAST = 0;
const CURRENT = 1;
const FUTURE = 2;

/** Checks that a sample is the raw kind the processor expects and fits it; returns its action rows' stride. */
function checkSample(s: Sample, b: number, processor: PolicyProcessor, config: InternVLAA1Config): number {
  const m = s.meta;
  const where = `toPolicyBatch: sample ${b} (episode ${m.episodeIndex}, frame ${m.frameIndex})`;
  if (m.stateDim !== processor.stateDim || m.actionDim !== processor.actionDim)
    throw new TrainingDataError(
      `${where} has state ${m.stateDim} / action ${m.actionDim} dims, the processor ${processor.stateDim} / ${processor.actionDim}`,
    );
  if (m.actionOffsets.length !== config.chunkSize)
    throw new TrainingDataError(
      `${where} has ${m.actionOffsets.length} actions, the config's chunkSize is ${config.chunkSize}`,
    );
  if (m.imageOffsets.length !== 3 || m.imageOffsets[CURRENT] !== 0)
    throw new TrainingDataError(
      `${where} has image offsets [${m.imageOffsets.join(', ')}]; need three (past, 0, future), e.g. [-15, 0, 15]`,
    );
  const stride = s.actions.length / config.chunkSize;
  if (!Number.isInteger(stride) || stride < m.actionDim || s.state.length < m.stateDim)
    throw new TrainingDataError(
      `${where}: ${s.actions.length} action values do not hold ${config.chunkSize} rows of ${m.actionDim}`,
    );
  return stride;
}

/** The frame a sample holds for a view slot at one image offset, or undefined for a missing camera. */
function frameOf(s: Sample, slot: string, t: number, b: number): RgbFrame | undefined {
  const key = slot as CameraSlot;
  if (!s.imageMasks[key]) return undefined;
  const data = s.images[key]?.[t];
  const shape = s.meta.imageShapes[key];
  if (!(data instanceof Uint8Array) || !shape)
    throw new TrainingDataError(
      `toPolicyBatch: sample ${b} view '${slot}' has no uint8 frame with a size; build samples with imageSize 'native' (or a fixed size, imageDtype uint8)`,
    );
  return { height: shape[0], width: shape[1], data };
}

/**
 * A training batch from raw samples (as {@link TrainingData} serves them: native-size uint8 frames,
 * absolute actions, no normalisation). Tensors are created in the caller's scope (call it inside
 * `tidy`): per view `past`/`current` (and `future` when the model has a generation expert and no
 * latent targets are given) `[B, 3, S, S]` via `processor.imageBatchToPolicy`, one upload per
 * tensor otherwise — `state [B, 32]` from `processor.stateToPolicy`, `actions [B, chunk, 32]` from
 * `processor.actionsToPolicy` on the sample's unpadded absolute rows; host-side `imageMasks`
 * `[B·views]`, `tokens`/`textMask` from `processor.encodePrompts`, `actionIsPad [B·chunk]`.
 * With `latents` (e.g. from the latent cache) the batch carries them and the policy skips the encoder.
 */
export function toPolicyBatch(
  samples: readonly (TrainingSample | Sample)[],
  processor: PolicyProcessor,
  config: InternVLAA1Config,
  latents?: FrameLatents,
): PolicyBatch {
  const list = samples.map((x) => ('sample' in x ? x.sample : x));
  const B = list.length;
  if (B === 0) throw new TrainingDataError('toPolicyBatch: no samples');
  checkProcessorConfig(processor, config);
  const H = config.chunkSize;
  const P = config.stateDim;
  const S = processor.stateDim;
  const A = processor.actionDim;

  // Host side first: nothing is uploaded until every sample has been checked and converted.
  const state = new Float32Array(B * P);
  const actions = new Float32Array(B * H * P);
  const actionIsPad = new Uint8Array(B * H);
  list.forEach((s, b) => {
    const stride = checkSample(s, b, processor, config);
    const raw = s.state.subarray(0, S);
    state.set(processor.stateToPolicy(raw), b * P);
    const rows = Array.from({ length: H }, (_, k) => s.actions.subarray(k * stride, k * stride + A));
    actions.set(processor.actionsToPolicy(rows, raw), b * H * P);
    actionIsPad.set(s.actionIsPad, b * H);
  });
  const { tokens, textMask } = processor.encodePrompts(
    config,
    list.map((s) => s.task),
  );
  const cams = processor.json.cameras;
  const records = (t: number) =>
    list.map((s, b) => Object.fromEntries(cams.map((cam) => [cam, frameOf(s, cam, t, b)])));
  const frames = [records(PAST), records(CURRENT)];
  const CURRENT_SLOT = 1;
  const needFuture = config.generation !== null && !latents?.targets;
  if (needFuture) frames.push(records(FUTURE));

  // Only the current frames feed the vision tower (upstream pipeline: the processor's patches).
  const [past, current, future] = frames.map((r, i) =>
    processor.imageBatchToPolicy(r, { vision: i === CURRENT_SLOT }),
  );
  const images: ViewFrames[] = cams.map((_, v) => ({
    past: past.images[v],
    current: current.images[v],
    ...(future ? { future: future.images[v] } : {}),
  }));
  const batch: PolicyBatch = {
    images,
    imageMasks: current.masks,
    tokens,
    textMask,
    state: tensor(state, [B, P]),
    actions: tensor(actions, [B, H, P]),
    actionIsPad,
  };
  if (current.visionPatches) batch.visionPatches = current.visionPatches;
  if (latents) batch.latents = latents;
  return batch;
}
