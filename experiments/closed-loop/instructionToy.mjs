// Can the policy's architecture bind a word of its instruction to what the image shows, when that is
// all a task asks? Generated scenes of two dots of distinct colours (red, green, blue) at random places;
// the prompt's first token names one colour and every action dimension holds that dot's x or y; the
// state is the same for every sample. A policy that finds both dots but ignores the prompt can do no
// better than their midpoint; one that binds the word goes to the named dot. A fresh tiny policy
// trains on fresh scenes every step and, every `every` steps, samples chunks (the deployed path) for
// 32 held-out scenes and prints the squared error of each chunk's first action against the named dot,
// and the midpoint's.
// `readsCameras.test.ts` of @vla/internvla-a1 is the same with one white dot and no word to read.
// Mode `readout` asks less: one dot, no action loss, a linear head on the understanding expert's output
// at the word's position trained to give the dot's coordinates, so the word must read the image through
// attention; `readout-image` puts the head on the mean of the image tokens' outputs instead (no
// attention needed). It prints the head's mean squared error per coordinate; predicting the mean gives about 0.16.
// `readout-named` shows both dots and asks the word's head for the named one: the binding, asked of the
// understanding expert alone. `grounded` trains that for `pretrain` steps first, then the action task
// as `act` does (same scenes, same seeds), to see whether a grounded understanding expert binds sooner.
// `recon` μ > 0 adds the policy's image reconstruction (`imageReconWeight`) to every step's loss: the
// understanding expert's image tokens also predict their regions of the frame, which keeps them saying
// what is where; with it the word binds (BENCHMARKS.md, issue 15).
//   node experiments/closed-loop/instructionToy.mjs [steps=10000] [layers=2] [width=32] [every=1000] [lr=1e-3] [mode=act] [seed=5] [pretrain=10000] [recon=0]
import { InternVLAA1Policy, JointSequence, tinyConfig } from '@vla/internvla-a1';
import {
  AdamW,
  add,
  Linear,
  init,
  manualSeed,
  mean,
  mul,
  reshape,
  slice,
  sub,
  tensor,
  tidy,
} from '@vla/tensor-webgpu';

const args = process.argv.slice(2);
const [steps = 10000, layers = 2, width = 32, every = 1000, lr = 1e-3] = args.slice(0, 5).map(Number);
const mode = args[5] ?? 'act';
const initSeed = Number(args[6] ?? 5);
const MODES = ['act', 'readout', 'readout-image', 'readout-named', 'grounded'];
if (!MODES.includes(mode))
  throw new Error(`instructionToy: mode must be one of ${MODES.join(', ')}, got ${mode}`);
const DOTS = mode === 'readout' || mode === 'readout-image' ? 1 : 2;
const readoutOnly = mode.startsWith('readout');
// Steps of the word readout before the first action step (`grounded` only).
const pretrain = mode === 'grounded' ? Number(args[7] ?? 10000) : 0;
const recon = Number(args[8] ?? 0);
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
    ].slice(0, DOTS))
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++) {
          const g = Math.exp(-((j / (S - 1) - x) ** 2 + (i / (S - 1) - y) ** 2) / (2 * 0.05 ** 2));
          for (let k = 0; k < 3; k++) frame[((b * 3 + k) * S + i) * S + j] += (COLOURS[c][k] + 1) * g;
        }
    const first = DOTS === 1 || r() < 0.5;
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
  return { batch, named, other, target: tensor(new Float32Array(named.flat()), [B, 2]) };
}

function dispose({ batch, target }) {
  for (const t of [batch.state, batch.actions, batch.images[0].past, batch.images[0].current, target])
    t.dispose();
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
if (recon > 0) config.imageReconWeight = recon;
manualSeed(initSeed);
const policy = new InternVLAA1Policy(config);
// Made after the policy, and only for a readout, so `act` draws the same weights as before.
const head = mode === 'act' ? null : new Linear(width, 2);
const opt = new AdamW([...policy.parameters(), ...(head?.parameters() ?? [])], {
  lr,
  weightDecay: 0,
  maxGradNorm: 1,
});

/** The readout's squared error: the understanding expert alone on the prefix, a linear head on it. */
function readoutLoss({ batch, target }) {
  const B = target.shape[0];
  const seq = new JointSequence(config, B, batch.imageMasks, batch.textMask);
  // The understanding expert is the MoT's first; the others get no tokens in this pass.
  const hidden = policy.mot.experts.map((_, i) => (i === 0 ? policy.embedPrefix(batch) : null));
  const out = policy.mot.forward(hidden, {
    mask: seq.mask(seq.layout.prefix),
    rope: seq.rope(seq.layout.prefix),
  });
  const { text, viewRanges } = seq.layout;
  const und = out[0];
  // viewRanges include <vision_start> and <vision_end>.
  const feature =
    mode === 'readout-image'
      ? mean(slice(und, 1, viewRanges[0].start + 1, viewRanges[0].end - 1), [1])
      : reshape(slice(und, 1, text.start, text.start + 1), [B, width]);
  const d = sub(head.forward(feature), target);
  return mean(mul(d, d));
}

let lossSum = 0;
for (let at = 1; at <= pretrain + steps; at++) {
  const reading = readoutOnly || at <= pretrain;
  // The action steps are numbered from 1 whatever came before, so `grounded` trains on `act`'s scenes.
  const step = reading ? at : at - pretrain;
  if (at === 1 && reading) console.log(`| step | readout error (${mode}) |\n|---|---|`);
  if (step === 1 && !reading)
    console.log(`| step | loss | error (named dot) | midpoint's error |\n|---|---|---|---|`);
  const scene = scenes(config, 16, (reading && mode === 'grounded' ? 500000 : 1000) + step);
  const loss = tidy(() => {
    const main = reading ? readoutLoss(scene) : policy.computeLoss(scene.batch, { seed: step }).loss;
    // The readout's error is what is printed; the reconstruction only joins its gradient.
    const total =
      reading && recon > 0
        ? add(main, mul(policy.computeLoss(scene.batch, { seed: step }).reconLoss, recon))
        : main;
    total.backward();
    opt.step();
    opt.zeroGrad();
    return main;
  });
  lossSum += (await loss.toArray())[0];
  loss.dispose();
  dispose(scene);
  if (step % every === 0 && reading) {
    console.log(`| ${step} | ${(lossSum / every).toFixed(4)} |`);
    lossSum = 0;
  } else if (step % every === 0) {
    const probe = scenes(config, 32, 7);
    const sampled = policy.sampleActions(probe.batch, { seed: 1 }).actions;
    const chunk = await sampled.toArray();
    sampled.dispose();
    dispose(probe);
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
