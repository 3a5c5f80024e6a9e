// Rasterizes a MuJoCo scene with WebGPU on the tensor engine's device: geometry is uploaded once,
// each frame uploads only the geom poses and the camera. A frame comes back as RGB8 (readback), as
// a policy tensor (a compute pass, no CPU copy), or goes into a browser canvas.
import type { MjModel } from '@mujoco/mujoco';
import type { CameraFrame } from '@vla/robot-core';
import { Tensor, initWebGpu, type Engine } from '@vla/tensor-webgpu';
import { FRAME_TO_TENSOR, INSTANCE_BYTES, VIEW_BYTES } from './renderShaders.js';
import { buildSceneGeometry, geomRgba, type GeomFilter, type SceneGeometry } from './sceneGeometry.js';
import { scenePipelines, type ScenePipelines } from './scenePipelines.js';
import { cameraViewProj, lightViewProj, type CameraPose } from './viewMatrices.js';

// WebGPU usage flags as numbers: the globals are not defined in every runtime before a device exists.
const BUF = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  INDEX: 0x10,
  VERTEX: 0x20,
  UNIFORM: 0x40,
  STORAGE: 0x80,
};
const TEX = { COPY_SRC: 0x1, TEXTURE_BINDING: 0x4, RENDER_ATTACHMENT: 0x10 };
const MAP_READ_MODE = 0x1;

const COLOR_FORMAT: GPUTextureFormat = 'rgba8unorm';
const SKY = [150 / 255, 175 / 255, 205 / 255];

/** A camera of the model (by name or id), or a free camera pose. */
export type CameraRef = string | number | CameraPose;

/**
 * What the renderer reads of a simulation state: the geom and camera poses (world frame) and the
 * time. A MuJoCo `MjData` is one; {@link copyRenderState} keeps one to render later.
 */
export interface RenderState {
  /** Geom positions, `3 × ngeom`. */
  readonly geom_xpos: Float64Array;
  /** Geom rotation matrices, row-major, `9 × ngeom`. */
  readonly geom_xmat: Float64Array;
  /** Camera positions, `3 × ncam`. */
  readonly cam_xpos: Float64Array;
  /** Camera rotation matrices, row-major, `9 × ncam`. */
  readonly cam_xmat: Float64Array;
  /** Simulation time (s); a frame's `timestampMs` is this in ms. */
  readonly time: number;
}

/** A copy of what the renderer reads of `data` now, so a later render shows this state. */
export function copyRenderState(data: RenderState): RenderState {
  return {
    geom_xpos: Float64Array.from(data.geom_xpos),
    geom_xmat: Float64Array.from(data.geom_xmat),
    cam_xpos: Float64Array.from(data.cam_xpos),
    cam_xmat: Float64Array.from(data.cam_xmat),
    time: data.time,
  };
}

/** Image size in pixels. */
export interface RenderSize {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
}

/** Lighting of a {@link SceneRenderer}: a directional key light with shadows, a head light and ambient. */
export interface SceneLighting {
  /** Direction towards the key light in the world (normalised for you). Default: above, slightly in front. */
  readonly direction?: readonly [number, number, number];
  /** Ambient term (default 0.35). */
  readonly ambient?: number;
  /** Key light (Lambert, shadowed) strength (default 0.5). */
  readonly key?: number;
  /** Head light (from the camera, unshadowed) strength (default 0.25). */
  readonly head?: number;
}

/** Shadow map of the key light. */
export interface SceneShadows {
  /** Shadow map size in texels; 0 turns shadows off (default 1024). */
  readonly mapSize?: number;
  /** Centre of the region that casts and receives shadows (default: the model's `stat.center`). */
  readonly center?: readonly [number, number, number];
  /** Radius of that region in m (default: 1.5 × the model's `stat.extent`). */
  readonly radius?: number;
}

/** Options of {@link SceneRenderer.create}. */
export interface SceneRendererOptions extends GeomFilter, RenderSize {
  /** Tensor engine whose GPUDevice renders (default: the process-wide engine of `@vla/tensor-webgpu`). */
  readonly engine?: Engine;
  /** Key light, head light and ambient (defaults suit a tabletop seen from a robot). */
  readonly lighting?: SceneLighting;
  /** The key light's shadow map (default: 1024 texels around the model's extent). */
  readonly shadows?: SceneShadows;
  /** Checker on planes: cell size in m (default 0.2) and contrast (default 0.07; 0 = none). */
  readonly checker?: { readonly cell?: number; readonly contrast?: number };
}

/** Options of {@link SceneRenderer.renderTensor}. */
export interface RenderTensorOptions extends Partial<RenderSize> {
  /** Value range: `'0..1'` (default) or `'-1..1'` (what the InternVLA-A1 policy eats). */
  readonly range?: '0..1' | '-1..1';
}

interface Targets {
  readonly width: number;
  readonly height: number;
  readonly color: GPUTexture;
  readonly depth: GPUTexture;
  ids: GPUTexture | null;
  /** Row pitch of copies out of the colour texture (256-byte aligned). */
  readonly rowBytes: number;
  /** Frame copy the tensor kernel reads (created on first use). */
  staging: GPUBuffer | null;
  readonly readbacks: GPUBuffer[];
}

function checkSize(width: number, height: number, what: string): void {
  if (!(
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width > 0 &&
    height > 0 &&
    width <= 8192 &&
    height <= 8192
  )) {
    throw new Error(`${what}: bad image size ${width}x${height}`);
  }
}

function checkOption(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`SceneRenderer.create: ${what}, got ${JSON.stringify(value)}`);
}

function cameraNames(m: MjModel): Map<string, number> {
  const names = m.names as Int8Array;
  const adr = m.name_camadr as Int32Array;
  const out = new Map<string, number>();
  for (let i = 0; i < m.ncam; i++) {
    let s = '';
    for (let k = adr[i]; names[k] !== 0; k++) s += String.fromCharCode(names[k]);
    if (s) out.set(s, i);
  }
  return out;
}

/**
 * Renders a MuJoCo model's scene from its cameras with WebGPU render pipelines, on the device of a
 * `@vla/tensor-webgpu` engine. Draws planes (with a faint checker), boxes, spheres, capsules,
 * cylinders, ellipsoids and mesh assets in their material colours, lit by a directional key light
 * with a shadow map, a head light and ambient light; height fields and SDFs are not drawn, and
 * translucent geoms are drawn opaque. Geoms in groups other than `geomGroups` (default 0–2, MuJoCo's
 * viewer default) or with alpha 0 are skipped, the same geoms `mj_ray` sees with that group mask.
 *
 * Cameras follow MuJoCo: a camera sits at `cam_xpos`, the columns of `cam_xmat` are its image-right,
 * image-up and backward axes, and `cam_fovy` is the vertical field of view; call `mj_forward` (or
 * step) before rendering so that `geom_xpos`/`geom_xmat`/`cam_xpos`/`cam_xmat` are current. Output
 * depends only on the state (no clock, no frame counter): the same state gives byte-identical images
 * on the same device. One set of pipelines serves every camera and size; render targets are cached
 * per size; the shader and pipelines are compiled once per device and shared by its renderers, so a
 * renderer per model is cheap. Call {@link SceneRenderer.dispose} when done (the engine's device stays
 * alive).
 */
export class SceneRenderer {
  /** The engine whose device renders (tensors from {@link renderTensor} live on it). */
  readonly engine: Engine;
  /** Default image width (pixels). */
  readonly width: number;
  /** Default image height (pixels). */
  readonly height: number;
  /** Ids of the geoms that are drawn, in instance order. */
  readonly drawnGeoms: readonly number[];

  private readonly device: GPUDevice;
  private readonly geometry: SceneGeometry;
  private readonly cameras: Map<string, number>;
  private readonly near: number;
  private readonly toLight: [number, number, number];
  private readonly shading: [number, number, number];
  private readonly shadowMapSize: number;
  private readonly shadowCenter: readonly number[];
  private readonly shadowRadius: number;
  private readonly checker: [number, number];

  private readonly vertexBuffer: GPUBuffer;
  private readonly indexBuffer: GPUBuffer;
  private readonly instanceBuffer: GPUBuffer;
  private readonly viewBuffer: GPUBuffer;
  private readonly instanceData: ArrayBuffer;
  private readonly viewData = new Float32Array(VIEW_BYTES / 4);
  private readonly shadowMap: GPUTexture;
  private readonly sceneGroup: GPUBindGroup;
  private readonly shadowGroup: GPUBindGroup;
  private readonly pipelines: ScenePipelines;
  private readonly targets = new Map<string, Targets>();
  private readonly canvasFormats = new WeakMap<GPUCanvasContext, GPUTextureFormat>();
  /** Instance data the shadow map was last rendered from; the map is redrawn only when poses change. */
  private shadowOf: Float32Array | null = null;
  private disposed = false;

  private constructor(
    private readonly model: MjModel,
    engine: Engine,
    options: SceneRendererOptions,
  ) {
    checkSize(options.width, options.height, 'SceneRenderer.create');
    this.engine = engine;
    this.device = engine.device;
    this.width = options.width;
    this.height = options.height;
    const geometry = buildSceneGeometry(model, options);
    this.geometry = geometry;
    this.drawnGeoms = geometry.geoms.map((g) => g.geomId);
    this.cameras = cameraNames(model);
    this.near = model.vis.map.znear * model.stat.extent;

    const l = options.lighting ?? {};
    const dir = l.direction ?? [0.35, 0.25, 1];
    const len = Math.hypot(dir[0], dir[1], dir[2]);
    checkOption(Number.isFinite(len) && len > 0, 'lighting.direction must be a finite non-zero vector', dir);
    this.toLight = [dir[0] / len, dir[1] / len, dir[2] / len];
    this.shading = [l.ambient ?? 0.35, l.key ?? 0.5, l.head ?? 0.25];
    for (const [k, x] of [
      ['ambient', this.shading[0]],
      ['key', this.shading[1]],
      ['head', this.shading[2]],
    ] as const) {
      checkOption(Number.isFinite(x) && x >= 0, `lighting.${k} must be a finite number ≥ 0`, x);
    }
    const s = options.shadows ?? {};
    this.shadowMapSize = s.mapSize ?? 1024;
    if (!Number.isInteger(this.shadowMapSize) || this.shadowMapSize < 0) {
      throw new Error(
        `SceneRenderer.create: shadows.mapSize must be a non-negative integer, got ${this.shadowMapSize}`,
      );
    }
    this.shadowCenter = s.center ?? Array.from(model.stat.center as Float64Array);
    this.shadowRadius = s.radius ?? 1.5 * model.stat.extent;
    checkOption(
      Number.isFinite(this.shadowRadius) && this.shadowRadius > 0,
      'shadows.radius must be > 0',
      s.radius,
    );
    checkOption(
      this.shadowCenter.length === 3 && this.shadowCenter.every(Number.isFinite),
      'shadows.center must be 3 finite numbers',
      s.center,
    );
    this.checker = [options.checker?.cell ?? 0.2, options.checker?.contrast ?? 0.07];
    checkOption(
      Number.isFinite(this.checker[0]) && this.checker[0] > 0,
      'checker.cell must be > 0',
      this.checker[0],
    );
    checkOption(
      Number.isFinite(this.checker[1]) && this.checker[1] >= 0 && this.checker[1] < 1,
      'checker.contrast must be in [0, 1)',
      this.checker[1],
    );

    const dev = this.device;
    const upload = (data: Float32Array | Uint32Array, usage: number) => {
      const buf = dev.createBuffer({ size: Math.max(16, data.byteLength), usage: usage | BUF.COPY_DST });
      if (data.byteLength) dev.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
      return buf;
    };
    this.vertexBuffer = upload(geometry.vertices, BUF.VERTEX);
    this.indexBuffer = upload(geometry.indices, BUF.INDEX);
    this.instanceData = new ArrayBuffer(Math.max(1, geometry.geoms.length) * INSTANCE_BYTES);
    this.instanceBuffer = dev.createBuffer({
      size: this.instanceData.byteLength,
      usage: BUF.STORAGE | BUF.COPY_DST,
    });
    this.viewBuffer = dev.createBuffer({ size: VIEW_BYTES, usage: BUF.UNIFORM | BUF.COPY_DST });
    // Without shadows a 1x1 map keeps the bind group valid; the shader then skips the lookup.
    const mapSize = Math.max(1, this.shadowMapSize);
    this.shadowMap = dev.createTexture({
      size: [mapSize, mapSize],
      format: 'depth32float',
      usage: TEX.RENDER_ATTACHMENT | TEX.TEXTURE_BINDING,
    });

    const pipes = scenePipelines(dev);
    this.pipelines = pipes;
    this.sceneGroup = dev.createBindGroup({
      layout: pipes.sceneLayout,
      entries: [
        { binding: 0, resource: { buffer: this.viewBuffer } },
        { binding: 1, resource: { buffer: this.instanceBuffer } },
      ],
    });
    this.shadowGroup = dev.createBindGroup({
      layout: pipes.shadowLayout,
      entries: [
        { binding: 0, resource: this.shadowMap.createView() },
        { binding: 1, resource: pipes.shadowSampler },
      ],
    });
  }

  /**
   * Builds a renderer for `model`: reads its geoms once and uploads their shapes. Uses
   * `options.engine`'s device, or the default engine of `@vla/tensor-webgpu` (created if needed).
   */
  static async create(model: MjModel, options: SceneRendererOptions): Promise<SceneRenderer> {
    return new SceneRenderer(model, options.engine ?? (await initWebGpu()), options);
  }

  /**
   * Like {@link SceneRenderer.create}, synchronously, on an engine that already exists: e.g. a new
   * renderer for each episode's model (the device's pipelines are reused, so this is cheap).
   */
  static createOn(
    engine: Engine,
    model: MjModel,
    options: Omit<SceneRendererOptions, 'engine'>,
  ): SceneRenderer {
    return new SceneRenderer(model, engine, options);
  }

  private targetsFor(width: number, height: number): Targets {
    const key = `${width}x${height}`;
    let t = this.targets.get(key);
    if (!t) {
      const dev = this.device;
      t = {
        width,
        height,
        color: dev.createTexture({
          size: [width, height],
          format: COLOR_FORMAT,
          usage: TEX.RENDER_ATTACHMENT | TEX.COPY_SRC,
        }),
        depth: dev.createTexture({
          size: [width, height],
          format: 'depth32float',
          usage: TEX.RENDER_ATTACHMENT,
        }),
        ids: null,
        rowBytes: Math.ceil((4 * width) / 256) * 256,
        staging: null,
        readbacks: [],
      };
      this.targets.set(key, t);
    }
    return t;
  }

  private resolveCamera(data: RenderState, camera: CameraRef): CameraPose {
    if (typeof camera === 'object') return camera;
    const id = typeof camera === 'number' ? camera : this.cameras.get(camera);
    if (id === undefined || !Number.isInteger(id) || id < 0 || id >= this.model.ncam) {
      const known = [...this.cameras.keys()].join(', ') || 'none';
      throw new Error(`SceneRenderer: the model has no camera ${JSON.stringify(camera)} (cameras: ${known})`);
    }
    const pos = data.cam_xpos;
    const xmat = data.cam_xmat;
    return {
      pos: pos.subarray(3 * id, 3 * id + 3),
      xmat: xmat.subarray(9 * id, 9 * id + 9),
      fovy: (this.model.cam_fovy as Float64Array)[id],
    };
  }

  /**
   * Writes the geom poses and the view. With `shadow`, returns whether the caller must redraw the
   * shadow map (the poses changed since it was drawn).
   */
  private prepare(
    data: RenderState,
    camera: CameraRef,
    width: number,
    height: number,
    shadow: boolean,
  ): boolean {
    if (this.disposed) throw new Error('SceneRenderer: used after dispose()');
    if (data.geom_xpos.length !== 3 * this.model.ngeom) {
      throw new Error(
        `SceneRenderer: this state does not belong to the renderer's model (${this.model.ngeom} geoms)`,
      );
    }
    const cam = this.resolveCamera(data, camera);
    const f = new Float32Array(this.instanceData);
    const u = new Uint32Array(this.instanceData);
    const xpos = data.geom_xpos;
    const xmat = data.geom_xmat;
    const stride = INSTANCE_BYTES / 4;
    this.geometry.geoms.forEach((g, i) => {
      const o = i * stride;
      const id = g.geomId;
      for (let r = 0; r < 3; r++) {
        f[o + 4 * r] = xmat[9 * id + 3 * r];
        f[o + 4 * r + 1] = xmat[9 * id + 3 * r + 1];
        f[o + 4 * r + 2] = xmat[9 * id + 3 * r + 2];
        f[o + 4 * r + 3] = xpos[3 * id + r];
      }
      f.set(g.scale, o + 12);
      f[o + 15] = g.extend;
      const rgba = geomRgba(this.model, id);
      f.set(rgba.slice(0, 3), o + 16);
      f[o + 19] = g.checker ? 1 : 0;
      u[o + 20] = id;
    });
    const v = this.viewData;
    cameraViewProj(cam, width, height, this.near, v, 0);
    const shadows = this.shadowMapSize > 0;
    if (shadows) lightViewProj(this.toLight, this.shadowCenter, this.shadowRadius, v, 16);
    v.set([cam.pos[0], cam.pos[1], cam.pos[2], 1], 32);
    v.set([...this.toLight, shadows ? 1 : 0], 36);
    v.set([...this.shading, this.checker[0]], 40);
    // Normal offset and depth bias scale with the shadow map's texel size.
    const texel = (2 * this.shadowRadius) / Math.max(1, this.shadowMapSize);
    v.set([1.5 * texel, 0, this.checker[1], 0], 44);
    this.device.queue.writeBuffer(this.instanceBuffer, 0, f);
    this.device.queue.writeBuffer(this.viewBuffer, 0, v);
    if (!shadows || !shadow) return false;
    const last = this.shadowOf;
    if (last && last.every((x, k) => x === f[k])) return false;
    this.shadowOf = f.slice();
    return true;
  }

  private drawAll(pass: GPURenderPassEncoder, shadowPass: boolean): void {
    pass.setVertexBuffer(0, this.vertexBuffer);
    pass.setIndexBuffer(this.indexBuffer, 'uint32');
    for (const d of this.geometry.draws) {
      const range = shadowPass ? d.shadow : d;
      if (range) pass.drawIndexed(range.indexCount, d.instanceCount, range.firstIndex, 0, d.firstInstance);
    }
  }

  /** Records the shadow pass (when needed) and the scene pass into `enc`. */
  private encode(
    enc: GPUCommandEncoder,
    shadow: boolean,
    target: GPUTextureView,
    depth: GPUTexture,
    pipeline: GPURenderPipeline,
    clear: GPUColor,
  ): void {
    if (shadow) {
      const sp = enc.beginRenderPass({
        colorAttachments: [],
        depthStencilAttachment: {
          view: this.shadowMap.createView(),
          depthClearValue: 1,
          depthLoadOp: 'clear',
          depthStoreOp: 'store',
        },
      });
      sp.setPipeline(this.pipelines.shadowPipeline);
      sp.setBindGroup(0, this.sceneGroup);
      this.drawAll(sp, true);
      sp.end();
    }
    const pass = enc.beginRenderPass({
      colorAttachments: [{ view: target, clearValue: clear, loadOp: 'clear', storeOp: 'store' }],
      depthStencilAttachment: {
        view: depth.createView(),
        depthClearValue: 0,
        depthLoadOp: 'clear',
        depthStoreOp: 'discard',
      },
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.sceneGroup);
    pass.setBindGroup(1, this.shadowGroup);
    this.drawAll(pass, false);
    pass.end();
  }

  private size(size?: Partial<RenderSize>): [number, number] {
    const w = size?.width ?? this.width;
    const h = size?.height ?? this.height;
    checkSize(w, h, 'SceneRenderer');
    return [w, h];
  }

  /** Renders the colour image into the size's cached target and submits. */
  private renderColor(
    data: RenderState,
    camera: CameraRef,
    w: number,
    h: number,
    after?: (enc: GPUCommandEncoder, t: Targets) => void,
  ): Targets {
    const t = this.targetsFor(w, h);
    const shadow = this.prepare(data, camera, w, h, true);
    const enc = this.device.createCommandEncoder();
    this.encode(enc, shadow, t.color.createView(), t.depth, this.pipelines.color(COLOR_FORMAT), [...SKY, 1]);
    after?.(enc, t);
    this.device.queue.submit([enc.finish()]);
    return t;
  }

  /** Copies `texture` into a mappable buffer, reads it back and hands the padded rows to `unpack`. */
  private async readTexture<T>(
    what: string,
    t: Targets,
    encodeAndSubmit: (copy: (enc: GPUCommandEncoder, texture: GPUTexture) => void) => void,
    unpack: (rows: Uint8Array, rowBytes: number) => T,
  ): Promise<T> {
    const size = t.rowBytes * t.height;
    const buf = t.readbacks.pop() ?? this.device.createBuffer({ size, usage: BUF.MAP_READ | BUF.COPY_DST });
    this.device.pushErrorScope('validation');
    try {
      encodeAndSubmit((enc, texture) =>
        enc.copyTextureToBuffer({ texture }, { buffer: buf, bytesPerRow: t.rowBytes }, [t.width, t.height]),
      );
    } catch (e) {
      void this.device.popErrorScope();
      t.readbacks.push(buf);
      throw e;
    }
    const error = this.device.popErrorScope();
    try {
      await buf.mapAsync(MAP_READ_MODE);
    } catch (e) {
      const err = await error;
      buf.destroy();
      throw new Error(`SceneRenderer.${what}: ${err ? err.message : (e as Error).message}`, { cause: e });
    }
    const err = await error;
    try {
      if (err) throw new Error(`SceneRenderer.${what}: ${err.message}`);
      return unpack(new Uint8Array(buf.getMappedRange()), t.rowBytes);
    } finally {
      buf.unmap();
      if (this.disposed) buf.destroy();
      else t.readbacks.push(buf);
    }
  }

  /**
   * Renders `camera` (a camera name or id of the model, or a free pose) in the state `data` and reads
   * the image back: RGB8, HWC, row 0 at the top; `timestampMs` is the simulation time. Size defaults
   * to the renderer's.
   */
  async render(data: RenderState, camera: CameraRef, size?: Partial<RenderSize>): Promise<CameraFrame> {
    const [w, h] = this.size(size);
    const timestampMs = data.time * 1000;
    return this.readTexture(
      'render',
      this.targetsFor(w, h),
      (copy) => this.renderColor(data, camera, w, h, (enc, t) => copy(enc, t.color)),
      (rows, rowBytes) => {
        const rgb = new Uint8Array(3 * w * h);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const s = y * rowBytes + 4 * x;
            const d = 3 * (y * w + x);
            rgb[d] = rows[s];
            rgb[d + 1] = rows[s + 1];
            rgb[d + 2] = rows[s + 2];
          }
        }
        return { width: w, height: h, data: rgb, timestampMs };
      },
    );
  }

  /**
   * Renders which geom each pixel shows (row-major, row 0 at the top): the geom id, or -1 where the
   * ray leaves the scene. Same rasterization as {@link render}, without shading; useful for
   * segmentation masks and to check the renderer against a ray-cast.
   */
  async renderGeomIds(data: RenderState, camera: CameraRef, size?: Partial<RenderSize>): Promise<Int32Array> {
    const [w, h] = this.size(size);
    const t = this.targetsFor(w, h);
    t.ids ??= this.device.createTexture({
      size: [w, h],
      format: 'r32uint',
      usage: TEX.RENDER_ATTACHMENT | TEX.COPY_SRC,
    });
    const ids = t.ids;
    const pipeline = this.pipelines.geomIds();
    return this.readTexture(
      'renderGeomIds',
      t,
      (copy) => {
        this.prepare(data, camera, w, h, false);
        const enc = this.device.createCommandEncoder();
        this.encode(enc, false, ids.createView(), t.depth, pipeline, [0, 0, 0, 0]);
        copy(enc, ids);
        this.device.queue.submit([enc.finish()]);
      },
      (rows, rowBytes) => {
        const out = new Int32Array(w * h);
        const words = new Uint32Array(rows.buffer, rows.byteOffset, rows.byteLength / 4);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) out[y * w + x] = words[(y * rowBytes) / 4 + x] - 1;
        return out;
      },
    );
  }

  /**
   * Renders `camera` into a new `[1, 3, H, W]` f32 tensor on the renderer's engine, without a CPU
   * copy: the frame goes from the render target through a compute pass straight into the tensor's
   * buffer. Values are the same bytes as {@link render}'s, divided by 255 (range `'0..1'`) or mapped
   * to [-1, 1]. The caller owns the tensor (it belongs to the open `tidy` scope, if any).
   */
  renderTensor(data: RenderState, camera: CameraRef, options: RenderTensorOptions = {}): Tensor {
    const [w, h] = this.size(options);
    const range = options.range ?? '0..1';
    if (range !== '0..1' && range !== '-1..1')
      throw new Error(`SceneRenderer.renderTensor: range must be '0..1' or '-1..1', got ${String(range)}`);
    const t = this.targetsFor(w, h);
    t.staging ??= this.device.createBuffer({ size: t.rowBytes * h, usage: BUF.STORAGE | BUF.COPY_DST });
    const staging = t.staging;
    this.renderColor(data, camera, w, h, (enc, tt) =>
      enc.copyTextureToBuffer({ texture: tt.color }, { buffer: staging, bytesPerRow: tt.rowBytes }, [w, h]),
    );
    const out = Tensor.empty([1, 3, h, w], 'f32', this.engine);
    const n = w * h;
    const uniforms = new ArrayBuffer(32);
    new Uint32Array(uniforms, 0, 3).set([w, h, t.rowBytes / 4]);
    new Float32Array(uniforms, 12, 2).set(range === '0..1' ? [1, 0] : [2, -1]);
    this.engine.dispatch({
      kernel: FRAME_TO_TENSOR,
      label: `SceneRenderer.renderTensor [1, 3, ${h}, ${w}]`,
      storage: [
        { buffer: staging, readOnly: true },
        { buffer: out.buffer, readOnly: false },
      ],
      uniforms: new Uint8Array(uniforms),
      workgroups: [Math.ceil(n / 64)],
    });
    // Submit now: the next frame of this size overwrites the staging copy.
    this.engine.flush();
    return out;
  }

  /**
   * Renders `camera` into a browser canvas's WebGPU context, at the canvas's size. The context is
   * configured on first use with this renderer's device and the browser's preferred format.
   */
  renderToCanvas(data: RenderState, camera: CameraRef, context: GPUCanvasContext): void {
    let format = this.canvasFormats.get(context);
    if (!format) {
      format = navigator.gpu.getPreferredCanvasFormat();
      context.configure({ device: this.device, format, alphaMode: 'opaque' });
      this.canvasFormats.set(context, format);
    }
    const texture = context.getCurrentTexture();
    const [w, h] = [texture.width, texture.height];
    checkSize(w, h, 'SceneRenderer.renderToCanvas');
    const t = this.targetsFor(w, h);
    const shadow = this.prepare(data, camera, w, h, true);
    const enc = this.device.createCommandEncoder();
    this.encode(enc, shadow, texture.createView(), t.depth, this.pipelines.color(format), [...SKY, 1]);
    this.device.queue.submit([enc.finish()]);
  }

  /** Frees the renderer's GPU buffers and textures (not the engine's device). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [this.vertexBuffer, this.indexBuffer, this.instanceBuffer, this.viewBuffer]) b.destroy();
    this.shadowMap.destroy();
    for (const t of this.targets.values()) {
      t.color.destroy();
      t.depth.destroy();
      t.ids?.destroy();
      t.staging?.destroy();
      for (const b of t.readbacks) b.destroy();
    }
    this.targets.clear();
  }
}
