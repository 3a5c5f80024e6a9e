// How far the frames the policy trains on (decoded from the dataset's AV1 video, yuv420p) are from
// the frames the evaluation renders: each episode's first frame per camera against the simulator's
// render of the same seed at reset. Prints the mean absolute difference (of 255) and how many values
// differ by less than 4, 16 and 48; writes the first episode's head frames side by side (render |
// decoded, 8x) when a PNG path is given.
// Usage: node experiments/closed-loop/frameGap.mjs <dataset> <task> <episodes> [firstSeed=1000] [out.png]
import { writeFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { openLocalDataset } from '@vla/lerobot';
import { SimEnv } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';

await init();
const [dataset, task, episodes, firstSeed = '1000', out] = process.argv.slice(2);
const ds = await openLocalDataset(dataset);
const keys = Object.keys(ds.info.features).filter((k) => ds.info.features[k].dtype === 'video');
const [h, w] = ds.imageShape(keys[0]);
const env = await SimEnv.create({ task, robot: 'lift2', camera: 'gpu', imageWidth: w, imageHeight: h });
const bounds = [4, 16, 48];
const total = new Map(keys.map((k) => [k, { sum: 0, n: 0, within: bounds.map(() => 0) }]));
for (let e = 0; e < Number(episodes); e++) {
  const obs = await env.resetAsync(Number(firstSeed) + e);
  for (const key of keys) {
    const camera = key.split('.').pop();
    const rendered = obs.images[camera].data;
    const [decoded] = await ds.decodeFrames(e, key, [0]);
    const t = total.get(key);
    for (let i = 0; i < decoded.length; i++) {
      const d = Math.abs(decoded[i] - rendered[i]);
      t.sum += d;
      t.n++;
      bounds.forEach((b, j) => (t.within[j] += d < b ? 1 : 0));
    }
    if (out && e === 0 && camera === 'head') writeFileSync(out, sideBySide(rendered, decoded, w, h, 8));
  }
}
for (const [key, t] of total) {
  const within = bounds.map((b, j) => `<${b}: ${((100 * t.within[j]) / t.n).toFixed(1)}%`).join(', ');
  console.log(`${key}: mean |decoded − rendered| ${(t.sum / t.n).toFixed(2)} of 255 (${within})`);
}
process.exit(0);

/** Two RGB frames side by side, each pixel a `scale`×`scale` block, as a PNG. */
function sideBySide(a, b, w, h, scale) {
  const W = 2 * w * scale;
  const data = new Uint8Array(W * h * scale * 3);
  for (let y = 0; y < h * scale; y++)
    for (let x = 0; x < W; x++) {
      const src = x < w * scale ? a : b;
      const i = (Math.floor(y / scale) * w + Math.floor((x % (w * scale)) / scale)) * 3;
      data.set(src.subarray(i, i + 3), (y * W + x) * 3);
    }
  return encode({ width: W, height: h * scale, data, channels: 3 });
}
