// Runs in headless Chromium (bundled by renderBrowser.test.ts): loads MuJoCo, compiles the tabletop,
// renders it on navigator.gpu into a canvas, and compares with an mj_ray ray-cast made in the page.
import type { MainModule } from '@mujoco/mujoco';
import { SceneRenderer } from '../src/render/sceneRenderer.js';
import { agreement, rayCastIds } from './renderRayCast.js';
import { TABLETOP_XML } from './renderScenes.js';

/** What the page reports back to the test. */
export interface BrowserRenderResult {
  adapter: string;
  agreement: number;
  /** Largest per-channel difference between the canvas and `render()`'s RGB8 frame. */
  canvasMaxDiff: number;
  /** Largest difference between `renderTensor` and `render()`'s bytes / 255. */
  tensorMaxDiff: number;
  /** Distinct colours in the frame (a blank canvas would have one). */
  colours: number;
}

/** Renders the tabletop's overview camera at `size`² three ways in the page. */
export async function renderInPage(
  loadMujoco: () => Promise<MainModule>,
  size: number,
): Promise<BrowserRenderResult> {
  const mj = await loadMujoco();
  const m = mj.MjModel.from_xml_string(TABLETOP_XML);
  const d = new mj.MjData(m);
  mj.mj_forward(m, d);
  const renderer = await SceneRenderer.create(m, { width: size, height: size });
  const cam = mj.mj_name2id(m, mj.mjtObj.mjOBJ_CAMERA.value, 'overview');
  const ids = await renderer.renderGeomIds(d, 'overview');
  const ref = rayCastIds(mj, m, d, cam, size, size);
  const frame = await renderer.render(d, 'overview');

  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  document.body.append(canvas);
  renderer.renderToCanvas(d, 'overview', canvas.getContext('webgpu')!);
  // Read the canvas back the way a page would, by drawing it into a 2D canvas, in the same task: once
  // presented, a headless page's WebGPU canvas reads back blank.
  const copy = document.createElement('canvas');
  copy.width = size;
  copy.height = size;
  const ctx = copy.getContext('2d')!;
  ctx.drawImage(canvas, 0, 0);
  const pixels = ctx.getImageData(0, 0, size, size).data;
  let canvasMaxDiff = 0;
  const colours = new Set<number>();
  for (let k = 0; k < size * size; k++) {
    colours.add((frame.data[3 * k] << 16) | (frame.data[3 * k + 1] << 8) | frame.data[3 * k + 2]);
    for (let c = 0; c < 3; c++)
      canvasMaxDiff = Math.max(canvasMaxDiff, Math.abs(pixels[4 * k + c] - frame.data[3 * k + c]));
  }

  const t = renderer.renderTensor(d, 'overview');
  const values = (await t.toArray()) as Float32Array;
  t.dispose();
  let tensorMaxDiff = 0;
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < size * size; k++)
      tensorMaxDiff = Math.max(
        tensorMaxDiff,
        Math.abs(values[c * size * size + k] - frame.data[3 * k + c] / 255),
      );
  }
  const info = renderer.engine.gpu.adapterInfo;
  renderer.dispose();
  d.delete();
  m.delete();
  return {
    adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
    agreement: agreement(ids, ref.ids),
    canvasMaxDiff,
    tensorMaxDiff,
    colours: colours.size,
  };
}
