import type { CameraFrame, Embodiment, Observation, Robot, RobotStatus, SafeCommand } from '@vla/robot-core';
import type { Tensor } from '@vla/tensor-webgpu';
import type { CameraSource } from './cameraSource.js';
import { checkCommand } from './commandGate.js';
import { GpuCamera } from './gpuCamera.js';
import { copyRenderState, type RenderState, type RenderTensorOptions } from './render/sceneRenderer.js';
import type { SimWorld } from './simWorld.js';

/** Camera images the simulated robot produces. */
export interface SimCameraOptions {
  /**
   * Renders the cameras: a synchronous {@link CameraSource} (e.g. the ray-caster; rendered in every
   * `observe`), a {@link GpuCamera} (rendered by `capture`, whose readback is awaited), or `null` for
   * observations without images (fast, for experts and physics tests).
   */
  readonly source: CameraSource | GpuCamera | null;
  /** Image size (default 64×64). */
  readonly width?: number;
  readonly height?: number;
}

/**
 * The simulated robot behind robot-core's {@link Robot} interface: `observe` reads the joint state and
 * the camera frames, `command` accepts only a {@link SafeCommand} and sets the actuator targets from
 * it. The controller cannot tell it from a real driver; nothing else writes the targets.
 *
 * Frames, like a real driver's, are the latest the cameras delivered: a synchronous source renders in
 * every `observe`; the GPU camera delivers when {@link SimRobot.capture} is awaited (its readback is
 * asynchronous), and `observe` returns those frames until the next capture, with the simulation time
 * they show as `timestampMs` (none right after a new episode is attached).
 */
export class SimRobot implements Robot {
  readonly embodiment: Embodiment;
  private world: SimWorld;
  private readonly camera: SimCameraOptions;
  private frames: Record<string, CameraFrame> = {};
  // Bumped per episode, so a capture still in flight at a reset cannot deliver the old scene's frames.
  private episode = 0;
  // Frames handed out by captureDeferred and not rendered yet, each with the shot it belongs to.
  private readonly undeveloped = new WeakMap<CameraFrame, DeferredShot>();

  constructor(world: SimWorld, camera: SimCameraOptions) {
    this.world = world;
    this.embodiment = world.robot.embodiment;
    this.camera = camera;
    this.attachCamera();
  }

  /** Switch to a new episode's world (after a reset). */
  attach(world: SimWorld): void {
    if (world.robot.embodiment !== this.embodiment)
      throw new Error('SimRobot: the new world has another embodiment');
    this.world = world;
    this.attachCamera();
  }

  private attachCamera(): void {
    this.episode++;
    this.frames = {};
    const src = this.camera.source;
    if (src instanceof GpuCamera) src.attach(this.world.model, this.width, this.height);
  }

  private get width(): number {
    return this.camera.width ?? 64;
  }

  private get height(): number {
    return this.camera.height ?? 64;
  }

  private get cameraNames(): string[] {
    return this.embodiment.cameras.map((c) => c.name);
  }

  observe(): Observation {
    const w = this.world;
    const src = this.camera.source;
    if (src && !(src instanceof GpuCamera)) {
      const images: Record<string, CameraFrame> = {};
      for (const c of this.cameraNames) images[c] = src(w.model, w.data, c, this.width, this.height);
      this.frames = images;
    }
    return { state: w.readState(), images: { ...this.frames }, timestampMs: w.timeMs };
  }

  /**
   * GPU camera: render every camera in the current state and keep the frames for `observe` (the
   * readbacks of the cameras overlap). A synchronous source renders in `observe` instead, so this
   * does nothing for it, nor without a camera.
   */
  async capture(): Promise<void> {
    const src = this.camera.source;
    if (!(src instanceof GpuCamera)) return;
    const episode = this.episode;
    const frames = await src.frames(this.world.data, this.cameraNames);
    if (episode === this.episode) this.frames = frames;
  }

  /**
   * GPU camera: like {@link SimRobot.capture}, but only records what the cameras would show now (the
   * geom and camera poses, a few kilobytes) and renders nothing yet. `observe` returns frames whose
   * pixels are all zero until {@link SimRobot.develop} renders them, however far the world has moved
   * since: the same bytes `capture` would have delivered now. For loops that read few of the frames
   * (a policy asked every 30 ticks reads those of ticks t and t − 15), where rendering every tick
   * would cost most of the time on a CPU adapter. Does nothing for other cameras, as `capture`.
   */
  captureDeferred(): void {
    const src = this.camera.source;
    if (!(src instanceof GpuCamera)) return;
    const timestampMs = this.world.data.time * 1000;
    const frames: Record<string, CameraFrame> = {};
    for (const c of this.cameraNames)
      frames[c] = {
        width: this.width,
        height: this.height,
        data: new Uint8Array(3 * this.width * this.height),
        timestampMs,
      };
    const shot: DeferredShot = { state: copyRenderState(this.world.data), episode: this.episode, frames };
    for (const f of Object.values(frames)) this.undeveloped.set(f, shot);
    this.frames = frames;
  }

  /**
   * Renders the frames among `images` that {@link SimRobot.captureDeferred} handed out and that were not
   * rendered yet, into the frames themselves (whoever holds them sees the pixels); other frames are left
   * as they are. Each shot renders once, all its cameras together. Throws for a frame of an earlier
   * episode (its scene is gone).
   */
  async develop(images: Readonly<Record<string, CameraFrame>>): Promise<void> {
    const shots = new Set<DeferredShot>();
    for (const f of Object.values(images)) {
      const shot = this.undeveloped.get(f);
      if (shot) shots.add(shot);
    }
    await Promise.all([...shots].map((shot) => this.developShot(shot)));
  }

  private developShot(shot: DeferredShot): Promise<void> {
    if (shot.episode !== this.episode)
      throw new Error('SimRobot.develop: the frame is of an earlier episode; its scene is gone');
    shot.rendering ??= (async () => {
      const src = this.camera.source as GpuCamera;
      const rendered = await src.frames(shot.state, Object.keys(shot.frames), this.width, this.height);
      for (const [c, f] of Object.entries(shot.frames)) {
        f.data.set(rendered[c].data);
        this.undeveloped.delete(f);
      }
    })();
    return shot.rendering;
  }

  /**
   * The cameras in the current state as `[1, 3, H, W]` f32 tensors on the GPU camera's engine, without
   * a readback (GPU camera only). Range `'-1..1'` (the policy's) unless asked; size the robot's unless
   * asked. The caller owns the tensors.
   */
  renderTensors(options: RenderTensorOptions = {}): Record<string, Tensor> {
    const src = this.camera.source;
    if (!(src instanceof GpuCamera))
      throw new Error(
        `SimRobot.renderTensors: needs the GPU camera; this robot's camera is ${src ? 'a CPU source' : 'off'}`,
      );
    return src.tensors(this.world.data, this.cameraNames, { ...options, range: options.range ?? '-1..1' });
  }

  command(cmd: SafeCommand): void {
    checkCommand(this, cmd);
    this.world.applyTargets(cmd.positions);
  }

  status(): RobotStatus {
    return { connected: true, stale: false, stateAgeMs: 0 };
  }
}

/** One {@link SimRobot.captureDeferred}: the recorded state and the frames it fills once rendered. */
interface DeferredShot {
  readonly state: RenderState;
  readonly episode: number;
  readonly frames: Record<string, CameraFrame>;
  rendering?: Promise<void>;
}
