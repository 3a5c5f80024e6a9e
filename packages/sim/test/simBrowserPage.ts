// Runs in headless Chromium (bundled by simBrowser.test.ts): a pick-place task with the ARX Lift-2,
// MuJoCo in the page, stepped by the scripted expert, its cameras rendered on navigator.gpu as frames,
// as policy tensors and into a canvas, and the head view compared with an mj_ray ray-cast made in the page.
import { GpuCamera, ScriptedExpert, SimEnv } from '../src/index.js';
import { agreement, rayCastIds } from './renderRayCast.js';

/** What the page reports back to the test. */
export interface BrowserTaskResult {
  adapter: string;
  cameraKind: string;
  instruction: string;
  /** Largest change of a joint over the steps (robot units). */
  moved: number;
  /** Per camera: [width, height, bytes] of the last frame. */
  sizes: Record<string, number[]>;
  /** Per camera: mean absolute byte difference between the first and the last frame. */
  changed: Record<string, number>;
  /** Distinct colours in the last head frame. */
  colours: number;
  /** Head camera after the steps: share of pixels showing the geom `mj_ray` hits. */
  agreement: number;
  /** Largest per-channel difference between the canvas and the head frame. */
  canvasMaxDiff: number;
  /** Largest difference between `renderTensors` (range -1..1) and the frames' bytes. */
  tensorMaxDiff: number;
}

/** Steps the task `steps` ticks with images of `size`², then renders the last state three ways. */
export async function runTaskInPage(size: number, steps: number): Promise<BrowserTaskResult> {
  const camera = await GpuCamera.create();
  const env = await SimEnv.create({
    task: 'pick-place',
    robot: 'lift2',
    camera,
    imageWidth: size,
    imageHeight: size,
  });
  const first = await env.resetAsync(0);
  const expert = new ScriptedExpert(env);
  let obs = first;
  for (let t = 0; t < steps; t++) obs = (await env.stepAsync(expert.act())).observation;
  expert.delete();
  const names = Object.keys(obs.images);
  const sizes: Record<string, number[]> = {};
  const changed: Record<string, number> = {};
  for (const c of names) {
    const [a, b] = [first.images[c], obs.images[c]];
    sizes[c] = [b.width, b.height, b.data.length];
    let diff = 0;
    for (let k = 0; k < b.data.length; k++) diff += Math.abs(a.data[k] - b.data[k]);
    changed[c] = diff / b.data.length;
  }
  const head = obs.images.head.data;
  const colours = new Set<number>();
  for (let k = 0; k < size * size; k++)
    colours.add((head[3 * k] << 16) | (head[3 * k + 1] << 8) | head[3 * k + 2]);

  const { mj, world } = env;
  const cam = mj.mj_name2id(world.model, mj.mjtObj.mjOBJ_CAMERA.value, 'head');
  const ids = await camera.renderer.renderGeomIds(world.data, 'head');
  const ref = rayCastIds(mj, world.model, world.data, cam, size, size);

  const tensors = env.renderTensors();
  let tensorMaxDiff = 0;
  for (const c of names) {
    const v = (await tensors[c].toArray()) as Float32Array;
    tensors[c].dispose();
    const f = obs.images[c].data;
    for (let ch = 0; ch < 3; ch++)
      for (let k = 0; k < size * size; k++)
        tensorMaxDiff = Math.max(
          tensorMaxDiff,
          Math.abs(v[ch * size * size + k] - ((2 * f[3 * k + ch]) / 255 - 1)),
        );
  }

  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  document.body.append(canvas);
  camera.renderer.renderToCanvas(world.data, 'head', canvas.getContext('webgpu')!);
  // Read the canvas back in the same task, by drawing it into a 2D canvas (see renderBrowserPage.ts).
  const copy = document.createElement('canvas');
  copy.width = size;
  copy.height = size;
  const ctx = copy.getContext('2d')!;
  ctx.drawImage(canvas, 0, 0);
  const pixels = ctx.getImageData(0, 0, size, size).data;
  let canvasMaxDiff = 0;
  for (let k = 0; k < size * size; k++)
    for (let c = 0; c < 3; c++)
      canvasMaxDiff = Math.max(canvasMaxDiff, Math.abs(pixels[4 * k + c] - head[3 * k + c]));

  const moved = Math.max(...Array.from(obs.state, (v, i) => Math.abs(v - first.state[i])));
  const info = camera.engine.gpu.adapterInfo;
  const result: BrowserTaskResult = {
    adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
    cameraKind: env.cameraKind,
    instruction: obs.instruction,
    moved,
    sizes,
    changed,
    colours: colours.size,
    agreement: agreement(ids, ref.ids),
    canvasMaxDiff,
    tensorMaxDiff,
  };
  env.delete();
  camera.dispose();
  return result;
}
