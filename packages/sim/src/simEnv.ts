import {
  SafetyLayer,
  type CameraFrame,
  type Observation,
  type SafeCommand,
  type SafetyConfig,
} from '@vla/robot-core';
import type { Tensor } from '@vla/tensor-webgpu';
import type { CameraSource } from './cameraSource.js';
import { GpuCamera, type GpuCameraOptions } from './gpuCamera.js';
import { loadMujoco, type Mujoco } from './mujoco.js';
import { rayCastCameraSource } from './rayCastCamera.js';
import type { RenderTensorOptions } from './render/sceneRenderer.js';
import { Rng } from './rng.js';
import { SimRobot } from './simRobot.js';
import { simRobot, type SimRobotSpec } from './simRobots.js';
import type { TaskInstance } from './simTask.js';
import { simTask } from './tasks.js';
import { SimWorld } from './simWorld.js';

/** Options of {@link SimEnv.create}. */
export interface SimEnvOptions {
  /** Task name: `pick-place`, `conveyor-sort` or `handover`. */
  readonly task: string;
  /** Robot name: `lift2`, `acone` or `genie1`. */
  readonly robot: string;
  /**
   * Camera images: `'gpu'` renders with WebGPU (a {@link GpuCamera}; throws where WebGPU is missing),
   * or a GpuCamera you made (to share its engine, or draw its renderer into a canvas); `'raycast'` with
   * the CPU ray-caster (a reference: keep it ≤ 64 px); a {@link CameraSource} function; `null` for no
   * images (fast). Default: `'gpu'` where WebGPU is available, else `'raycast'` ({@link SimEnv.cameraKind}).
   */
  readonly camera?: 'gpu' | 'raycast' | GpuCamera | CameraSource | null;
  /** Settings of the GPU camera that `'gpu'` makes (engine, lighting, shadows). */
  readonly gpu?: GpuCameraOptions;
  /** Image size (default 64×64). */
  readonly imageWidth?: number;
  readonly imageHeight?: number;
  /** Physics steps per control tick (default 16, i.e. about 2 ms at 30 Hz). */
  readonly substeps?: number;
  /** Safety layer settings (its defaults otherwise). */
  readonly safety?: SafetyConfig;
  /** A loaded MuJoCo module (default: load the shared one). */
  readonly mujoco?: Mujoco;
}

/** What the policy gets: the robot's observation plus the episode's instruction. */
export interface SimObservation extends Observation {
  readonly instruction: string;
}

/** Which camera a {@link SimEnv} renders with. */
export type SimCameraKind = 'gpu' | 'raycast' | 'custom' | 'none';

/** Result of {@link SimEnv.step}. */
export interface StepResult {
  readonly observation: SimObservation;
  /** Task progress gained this step (0…1 over an episode). */
  readonly reward: number;
  /** The task is complete. */
  readonly success: boolean;
  /** The episode is over: success or the time limit. */
  readonly done: boolean;
  /** The command the safety layer made of the action (held, and why, when it refused it). */
  readonly command: SafeCommand;
}

/**
 * A gym-like closed loop around MuJoCo: `reset(seed)` builds the seeded task scene and returns the
 * first observation (state, three camera images, instruction); `step(action)` passes the action (absolute
 * joint and gripper targets in robot units, the embodiment's layout) through a {@link SafetyLayer},
 * commands the {@link SimRobot} with the resulting SafeCommand, advances one control tick and scores
 * the task. Invalid actions (NaN, wrong length) make the safety layer hold; they never reach physics.
 *
 * Images: the GPU camera reads frames back asynchronously, so `await resetAsync(seed)` and
 * `await stepAsync(action)` return observations whose images show the current state (with any camera).
 * The synchronous `reset`/`step` render with a synchronous camera (ray-caster, custom); with the GPU
 * camera their observations hold the frames of the last async call (see {@link SimRobot}), and a
 * closed loop on the GPU takes the images as tensors instead: {@link SimEnv.renderTensors}, no readback.
 */
export class SimEnv {
  readonly robotSpec: SimRobotSpec;
  private worldNow: SimWorld | undefined;
  private instanceNow: TaskInstance | undefined;
  private robotNow: SimRobot | undefined;
  private readonly safetyLayer: SafetyLayer;
  private steps = 0;
  private lastProgress = 0;
  // The safety layer's clock must never run backwards, but each episode's world starts at t = 0.
  private clockBaseMs = 0;

  private constructor(
    readonly mj: Mujoco,
    readonly options: SimEnvOptions,
    private readonly cameraSource: CameraSource | GpuCamera | null,
    /** Which camera renders the images: the GPU, the CPU ray-caster, a custom source, or none. */
    readonly cameraKind: SimCameraKind,
  ) {
    this.robotSpec = simRobot(options.robot);
    simTask(options.task);
    this.safetyLayer = new SafetyLayer(this.robotSpec.embodiment, options.safety);
  }

  /** Validate the task and robot names, load MuJoCo and set up the camera ({@link SimEnvOptions.camera}). */
  static async create(options: SimEnvOptions): Promise<SimEnv> {
    simRobot(options.robot);
    simTask(options.task);
    const mj = options.mujoco ?? (await loadMujoco());
    const cam = options.camera;
    if (cam === null) return new SimEnv(mj, options, null, 'none');
    if (cam instanceof GpuCamera) return new SimEnv(mj, options, cam, 'gpu');
    if (typeof cam === 'function') return new SimEnv(mj, options, cam, 'custom');
    if (cam === 'raycast') return new SimEnv(mj, options, rayCastCameraSource(mj), 'raycast');
    if (cam !== undefined && cam !== 'gpu')
      throw new Error(
        `SimEnv: camera must be 'gpu', 'raycast', a GpuCamera, a CameraSource or null, got ${JSON.stringify(cam)}`,
      );
    let gpu: GpuCamera;
    try {
      gpu = await GpuCamera.create(options.gpu);
    } catch (e) {
      // The default falls back to the ray-caster where there is no WebGPU; asking for 'gpu' does not.
      if (cam === undefined) return new SimEnv(mj, options, rayCastCameraSource(mj), 'raycast');
      throw new Error(`SimEnv: the GPU camera needs WebGPU: ${(e as Error).message}`, { cause: e });
    }
    return new SimEnv(mj, options, gpu, 'gpu');
  }

  /** The current episode's world (privileged: object poses, MuJoCo model and data). */
  get world(): SimWorld {
    if (!this.worldNow) throw new Error('SimEnv: call reset(seed) first');
    return this.worldNow;
  }

  /** The current episode's task instance (instruction, goals). */
  get instance(): TaskInstance {
    if (!this.instanceNow) throw new Error('SimEnv: call reset(seed) first');
    return this.instanceNow;
  }

  /** The simulated robot (robot-core's Robot interface). */
  get robot(): SimRobot {
    if (!this.robotNow) throw new Error('SimEnv: call reset(seed) first');
    return this.robotNow;
  }

  /** The safety layer every action goes through. */
  get safety(): SafetyLayer {
    return this.safetyLayer;
  }

  /** Control ticks since the reset. */
  get stepCount(): number {
    return this.steps;
  }

  /** Start a new episode from `seed` (an integer): same seed, same scene and instruction. */
  reset(seed: number): SimObservation {
    this.startEpisode(seed);
    return this.observe();
  }

  /** {@link SimEnv.reset}, with the images of the first state whatever the camera (the GPU's read back). */
  async resetAsync(seed: number): Promise<SimObservation> {
    this.startEpisode(seed);
    await this.robot.capture();
    return this.observe();
  }

  private startEpisode(seed: number): void {
    if (!Number.isInteger(seed)) throw new Error(`SimEnv: seed must be an integer, got ${seed}`);
    const task = simTask(this.options.task);
    const instance = task.create(this.robotSpec, new Rng(seed));
    // The next episode's clock starts a second after the last one ended.
    if (this.worldNow) this.clockBaseMs = this.nowMs() + 1000;
    this.worldNow?.delete();
    const world = new SimWorld(
      this.mj,
      this.robotSpec,
      instance.layout,
      this.options.substeps ?? 16,
      instance.belt,
    );
    this.worldNow = world;
    this.instanceNow = instance;
    const camera = {
      source: this.cameraSource,
      width: this.options.imageWidth,
      height: this.options.imageHeight,
    };
    // A new model: the GPU camera makes a renderer for it.
    if (this.robotNow) this.robotNow.attach(world);
    else this.robotNow = new SimRobot(world, camera);
    // A new safety run per episode, on a clock that keeps counting across episodes.
    if (this.safetyLayer.started) this.safetyLayer.stop();
    this.safetyLayer.clearObservations();
    this.safetyLayer.start(world.readState(), this.clockBaseMs);
    this.steps = 0;
    this.lastProgress = 0;
  }

  /** One control tick with `action` (absolute targets, robot units); `undefined` asks for a hold. */
  step(action: ArrayLike<number> | undefined): StepResult {
    return { ...this.advance(action), observation: this.observe() };
  }

  /** {@link SimEnv.step}, with the images of the new state whatever the camera (the GPU's read back). */
  async stepAsync(action: ArrayLike<number> | undefined): Promise<StepResult> {
    const r = this.advance(action);
    await this.robot.capture();
    return { ...r, observation: this.observe() };
  }

  /**
   * {@link SimEnv.step}, with the images of the new state deferred (GPU camera): they are rendered when
   * {@link SimEnv.develop} is awaited on them, as they were at this step, and are all zero until then
   * ({@link SimRobot.captureDeferred}). For loops that read the images of few steps. Other cameras: as
   * `stepAsync`.
   */
  stepDeferred(action: ArrayLike<number> | undefined): StepResult {
    const r = this.advance(action);
    this.robot.captureDeferred();
    return { ...r, observation: this.observe() };
  }

  /** Renders the deferred frames among `images` ({@link SimEnv.stepDeferred}); see {@link SimRobot.develop}. */
  develop(images: Readonly<Record<string, CameraFrame>>): Promise<void> {
    return this.robot.develop(images);
  }

  /**
   * The cameras in the current state as `[1, 3, H, W]` f32 tensors for the policy (range `'-1..1'`,
   * the env's image size, unless asked), rendered on the GPU camera's engine without a readback.
   * Needs the GPU camera. The caller owns the tensors (they join the open `tidy` scope, if any).
   */
  renderTensors(options: RenderTensorOptions = {}): Record<string, Tensor> {
    if (!this.worldNow) throw new Error('SimEnv: call reset(seed) first');
    return this.robot.renderTensors(options);
  }

  private advance(action: ArrayLike<number> | undefined): Omit<StepResult, 'observation'> {
    const world = this.world;
    const robot = this.robot;
    const safety = this.safety;
    const now = this.nowMs();
    const state = world.readState();
    safety.observe(state, now);
    const command = safety.step(action, now);
    robot.command(command);
    world.tick();
    this.steps++;
    const progress = this.instance.progress(world);
    const reward = progress - this.lastProgress;
    this.lastProgress = progress;
    const success = progress >= 1;
    return {
      reward,
      success,
      done: success || this.steps >= this.instance.maxSteps,
      command,
    };
  }

  /** Free the MuJoCo model and data of the current episode, and the GPU camera's renderer of it. */
  delete(): void {
    // The next episode's clock starts a second after the last one ended.
    if (this.worldNow) this.clockBaseMs = this.nowMs() + 1000;
    if (this.cameraSource instanceof GpuCamera) this.cameraSource.detach();
    this.worldNow?.delete();
    this.worldNow = undefined;
  }

  /** The controller's clock (ms): simulated time, continuing across episodes. */
  nowMs(): number {
    return this.clockBaseMs + this.world.timeMs;
  }

  private observe(): SimObservation {
    return { ...this.robot.observe(), timestampMs: this.nowMs(), instruction: this.instance.instruction };
  }
}
