// Can the policy's architecture bind a word of its instruction to what the image shows, when that is
// all a task asks? Generated scenes of two dots of distinct colours (red, green, blue) at random places;
// the prompt's first token names one colour and every action dimension holds that dot's x or y; the
// state is the same for every sample. A policy that finds both dots but ignores the prompt can do no
// better than their midpoint; one that binds the word goes to the named dot. A fresh tiny policy
// trains on fresh scenes every step and, every `every` steps, samples chunks (the deployed path) for
// 32 held-out scenes and prints the squared error of each chunk's first action against the named dot,
// and the midpoint's.
// `readsCameras.test.ts` of @vla/internvla-a1 is the same with one white dot and no word to read.
//   node experiments/closed-loop/instructionToy.mjs [steps=10000] [layers=2] [width=32] [every=1000] [lr=1e-3]
import { InternVLAA1Policy, tinyConfig } from '@vla/internvla-a1';
import { AdamW, init, manualSeed, tensor, tidy } from '@vla/tensor-webgpu';

const [steps = 10000, layers = 2, width = 32, every = 1000, lr = 1e-3] = process.argv.slice(2).map(Number);
const COLOURS = [
  [1, -1, -1],
  [-1, 1, -1],
  [-1, -1, 1],
];
const COLOUR_TOKEN = [11, 12, 13];

/** Mulberry32: the scenes of a seed are the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** B scenes; `named` and `other` hold each scene's two dots in [-1, 1]. */
function scenes(config, B, seed) {
  const { imageSize: S, textTokens: T, chunkSize: H, stateDim: D } = config;
  const r = rng(seed);
  const frame = new Float32Array(B * 3 * S * S).fill(-1);
  const actions = new Float32Array(B * H * D);
  const tokens = new Int32Array(B * T).fill(9);
  const named = [];
  const other = [];
  for (let b = 0; b < B; b++) {
    const c0 = Math.floor(3 * r());
    const c1 = (c0 + 1 + Math.floor(2 * r())) % 3;
    let p0, p1;
    do {
      p0 = [0.15 + 0.7 * r(), 0.15 + 0.7 * r()];
      p1 = [0.15 + 0.7 * r(), 0.15 + 0.7 * r()];
    } while (Math.hypot(p0[0] - p1[0], p0[1] - p1[1]) < 0.3); // far apart: the midpoint is a poor answer
    for (const [[x, y], c] of [
      [p0, c0],
      [p1, c1],
    ])
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const g = Math.exp(-((j / (S - 1) - x) ** 2 + (i / (S - 1) - y) ** 2) / (2 * 0.05 ** 2));
          for (let k = 0; k < 3; k++) frame[((b * 3 + k) * S + i) * S + j] += (COLOURS[c][k] + 1) * g;
        }
    const first = r() < 0.5;
    const [x, y] = first ? p0 : p1;
    const [ox, oy] = first ? p1 : p0;
    tokens[b * T] = COLOUR_TOKEN[first ? c0 : c1];
    named.push([2 * x - 1, 2 * y - 1]);
    other.push([2 * ox - 1, 2 * oy - 1]);
    for (let h = 0; h < H; h++)
      for (let k = 0; k < D; k++) actions[(b * H + h) * D + k] = k % 2 ? 2 * y - 1 : 2 * x - 1;
  }
  const shape = [B, 3, S, S];
  const batch = {
    images: [{ past: tensor(frame, shape), current: tensor(frame, shape) }],
    imageMasks: new Uint8Array(B).fill(1),
    tokens,
    textMask: new Uint8Array(B * T).fill(1),
    state: tensor(new Float32Array(B * D), [B, D]),
    actions: tensor(actions, [B, H, D]),
  };
  return { batch, named, other };
}

function dispose(batch) {
  for (const t of [batch.state, batch.actions, batch.images[0].past, batch.images[0].current]) t.dispose();
}

await init();
const config = tinyConfig({
  width,
  layers,
  visionLayers: 1,
  textTokens: 2,
  vocabSize: 64,
  imageSize: 32,
  patchSize: 8,
  views: 1,
  chunkSize: 4,
  generation: false,
});
manualSeed(5);
const policy = new InternVLAA1Policy(config);
const opt = new AdamW(policy.parameters(), { lr, weightDecay: 0, maxGradNorm: 1 });
console.log(`| step | loss | error (named dot) | midpoint's error |\n|---|---|---|---|`);
let lossSum = 0;
for (let step = 1; step <= steps; step++) {
  const { batch } = scenes(config, 16, 1000 + step);
  const loss = tidy(() => {
    const { loss } = policy.computeLoss(batch, { seed: step });
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return loss;
  });
  lossSum += (await loss.toArray())[0];
  loss.dispose();
  dispose(batch);
  if (step % every === 0) {
    const probe = scenes(config, 32, 7);
    const sampled = policy.sampleActions(probe.batch, { seed: 1 }).actions;
    const chunk = await sampled.toArray();
    sampled.dispose();
    dispose(probe.batch);
    const { chunkSize: H, stateDim: D } = config;
    // Scored on each chunk's first action, its first two dimensions (x, y).
    let err = 0;
    let mid = 0;
    probe.named.forEach(([x, y], b) => {
      const [ox, oy] = probe.other[b];
      err += (chunk[b * H * D] - x) ** 2 + (chunk[b * H * D + 1] - y) ** 2;
      mid += ((ox - x) / 2) ** 2 + ((oy - y) / 2) ** 2;
    });
    const n = probe.named.length;
    console.log(
      `| ${step} | ${(lossSum / every).toFixed(4)} | ${(err / n).toFixed(4)} | ${(mid / n).toFixed(4)} |`,
    );
    lossSum = 0;
  }
}
process.exit(0);
