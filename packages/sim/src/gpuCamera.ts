import type { CameraFrame } from '@vla/robot-core';
import { initWebGpu, type Engine, type Tensor } from '@vla/tensor-webgpu';
import type { MjModel } from './mujoco.js';
import type { GeomFilter } from './render/sceneGeometry.js';
import {
  SceneRenderer,
  type RenderState,
  type RenderTensorOptions,
  type SceneLighting,
  type SceneRendererOptions,
  type SceneShadows,
} from './render/sceneRenderer.js';

/** Options of {@link GpuCamera.create}. */
export interface GpuCameraOptions extends GeomFilter {
  /** Tensor engine whose device renders (default: the process-wide engine of `@vla/tensor-webgpu`). */
  readonly engine?: Engine;
  /** Key light, head light and ambient (the renderer's defaults otherwise). */
  readonly lighting?: SceneLighting;
  /** The key light's shadow map (default: sized for the image, see {@link GpuCamera.attach}). */
  readonly shadows?: SceneShadows;
  /** Checker on planes (the renderer's default otherwise). */
  readonly checker?: SceneRendererOptions['checker'];
}

/**
 * Shadow map texels for images of `width × height`: about two texels per image pixel across, at least
 * 256 and at most the renderer's default of 1024. On a CPU adapter a large map is costly to create
 * and to redraw (every tick: the robot moves), and a 64 px image cannot show finer shadows anyway.
 */
function shadowMapSizeFor(width: number, height: number): number {
  const want = 2 * Math.max(width, height);
  return Math.min(1024, Math.max(256, 2 ** Math.ceil(Math.log2(want))));
}

/**
 * The simulator's GPU camera: renders the robot's named cameras with a WebGPU {@link SceneRenderer} on
 * a `@vla/tensor-webgpu` engine. Each episode compiles its own MuJoCo model, so the camera follows it:
 * {@link GpuCamera.attach} makes a renderer for the new model (the device's shader and pipelines are
 * compiled once and shared, so this costs a buffer upload) and frees the last one. Frames come back
 * as RGB8 (a readback, awaited) or stay on the GPU as policy tensors (no readback, synchronous). It
 * follows one environment at a time: attaching another model frees the renderer of the last.
 */
export class GpuCamera {
  private rendererNow: SceneRenderer | undefined;
  private disposed = false;

  private constructor(
    /** The engine whose device renders; tensors from {@link GpuCamera.tensors} live on it. */
    readonly engine: Engine,
    private readonly options: GpuCameraOptions,
  ) {}

  /** Resolve the engine (`options.engine`, or the default one, created if needed: throws without WebGPU). */
  static async create(options: GpuCameraOptions = {}): Promise<GpuCamera> {
    return new GpuCamera(options.engine ?? (await initWebGpu()), options);
  }

  /** The renderer of the attached model. */
  get renderer(): SceneRenderer {
    if (!this.rendererNow) throw new Error('GpuCamera: no model attached (reset the environment first)');
    return this.rendererNow;
  }

  /**
   * Render `model` from now on, at `width × height` by default (also the size its shadow map is
   * chosen for, unless the options set one). Frees the previous model's renderer.
   */
  attach(model: MjModel, width: number, height: number): void {
    if (this.disposed) throw new Error('GpuCamera: used after dispose()');
    this.detach();
    const o = this.options;
    this.rendererNow = SceneRenderer.createOn(this.engine, model, {
      width,
      height,
      geomGroups: o.geomGroups,
      lighting: o.lighting,
      checker: o.checker,
      shadows: { mapSize: shadowMapSizeFor(width, height), ...o.shadows },
    });
  }

  /** Free the attached model's renderer (the model itself belongs to its world). */
  detach(): void {
    this.rendererNow?.dispose();
    this.rendererNow = undefined;
  }

  /**
   * RGB8 frames of `cameras` in the state `data` (an `MjData`, or a copy of one; its model must be the
   * attached one). The cameras are rendered one after another and read back together, so their
   * readbacks overlap.
   */
  async frames(
    data: RenderState,
    cameras: readonly string[],
    width?: number,
    height?: number,
  ): Promise<Record<string, CameraFrame>> {
    const r = this.renderer;
    const list = await Promise.all(cameras.map((c) => r.render(data, c, { width, height })));
    return Object.fromEntries(cameras.map((c, i) => [c, list[i]]));
  }

  /**
   * `[1, 3, H, W]` f32 tensors of `cameras` in the state `data`, on {@link GpuCamera.engine}, without a
   * readback (see {@link SceneRenderer.renderTensor}; range `'0..1'` unless asked). The caller owns them.
   */
  tensors(
    data: RenderState,
    cameras: readonly string[],
    options: RenderTensorOptions = {},
  ): Record<string, Tensor> {
    const r = this.renderer;
    const out: Record<string, Tensor> = {};
    try {
      for (const c of cameras) out[c] = r.renderTensor(data, c, options);
    } catch (e) {
      for (const t of Object.values(out)) t.dispose();
      throw e;
    }
    return out;
  }

  /** Free the renderer; the engine and its device stay alive (they may be shared). */
  dispose(): void {
    this.detach();
    this.disposed = true;
  }
}
