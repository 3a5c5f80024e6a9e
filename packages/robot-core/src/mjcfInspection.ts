import type { MjcfDescription } from './bimanualMjcf.js';
import { applyMap, invertMap } from './ros/linearMap.js';

/** The part of the MuJoCo WebAssembly module (`@mujoco/mujoco`) these helpers use. */
export interface MujocoLike {
  readonly MjModel: { from_xml_string(xml: string): MjModelLike };
  readonly MjData: new (m: MjModelLike) => MjDataLike;
  readonly mjtObj: Record<
    'mjOBJ_JOINT' | 'mjOBJ_ACTUATOR' | 'mjOBJ_CAMERA' | 'mjOBJ_KEY',
    { readonly value: number }
  >;
  mj_name2id(m: MjModelLike, type: number, name: string): number;
  mj_step(m: MjModelLike, d: MjDataLike): void;
  mj_resetDataKeyframe(m: MjModelLike, d: MjDataLike, key: number): void;
}

/** Compiled-model fields read here. */
export interface MjModelLike {
  readonly nq: number;
  readonly nu: number;
  readonly njnt: number;
  readonly jnt_range: Float64Array;
  readonly jnt_qposadr: Int32Array;
  readonly actuator_ctrlrange: Float64Array;
  readonly actuator_trnid: Int32Array;
  readonly opt: { readonly timestep: number };
  delete(): void;
}

/** Simulation-state fields read here. Views are re-read after every call (wasm memory may move). */
export interface MjDataLike {
  readonly qpos: Float64Array;
  readonly ctrl: Float64Array;
  delete(): void;
}

/** What the compiled model says about one embodiment dim. */
export interface MjcfDimFacts {
  readonly dim: string;
  /** Joint range in simulator units. */
  readonly range: readonly [number, number];
  /** Actuator control range in simulator units. */
  readonly ctrlRange: readonly [number, number];
  /** Name-resolved ids, -1 when missing. */
  readonly jointId: number;
  readonly actuatorId: number;
  /** Joint driven by the actuator. */
  readonly actuatorJointId: number;
}

/** Compiled facts of a description. */
export interface MjcfFacts {
  readonly dims: readonly MjcfDimFacts[];
  /** Camera name → id (-1 when missing). */
  readonly cameras: Readonly<Record<string, number>>;
  readonly nq: number;
  readonly nu: number;
}

/** Compile a description with MuJoCo and read joint and actuator ranges back from the model. */
export function inspectMjcf(mj: MujocoLike, desc: MjcfDescription): MjcfFacts {
  const m = mj.MjModel.from_xml_string(desc.xml);
  try {
    const dims = desc.dims.map((d) => {
      const jointId = mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, d.joint);
      const actuatorId = mj.mj_name2id(m, mj.mjtObj.mjOBJ_ACTUATOR.value, d.actuator);
      return {
        dim: d.dim,
        jointId,
        actuatorId,
        range: [m.jnt_range[2 * jointId], m.jnt_range[2 * jointId + 1]] as const,
        ctrlRange: [m.actuator_ctrlrange[2 * actuatorId], m.actuator_ctrlrange[2 * actuatorId + 1]] as const,
        actuatorJointId: m.actuator_trnid[2 * actuatorId],
      };
    });
    const cameras = Object.fromEntries(
      desc.cameras.map((c) => [c, mj.mj_name2id(m, mj.mjtObj.mjOBJ_CAMERA.value, c)]),
    );
    return { dims, cameras, nq: m.nq, nu: m.nu };
  } finally {
    m.delete();
  }
}

/** Result of {@link simulateMjcf}, positions in robot units per embodiment dim. */
export interface MjcfRollout {
  /** Dim positions at the start (the home keyframe). */
  readonly start: readonly number[];
  /** Dim positions after the rollout. */
  readonly end: readonly number[];
  /** Largest change of any qpos entry (every joint, body joints included), simulator units. */
  readonly maxQposChange: number;
}

/**
 * Reset to the description's home keyframe, set each dim's actuator to `targets` (robot units; default:
 * leave the keyframe's controls, i.e. hold home) and step for `seconds` of simulated time.
 */
export function simulateMjcf(
  mj: MujocoLike,
  desc: MjcfDescription,
  seconds: number,
  targets?: readonly number[],
): MjcfRollout {
  const m = mj.MjModel.from_xml_string(desc.xml);
  const d = new mj.MjData(m);
  try {
    const key = mj.mj_name2id(m, mj.mjtObj.mjOBJ_KEY.value, desc.homeKeyframe);
    if (key < 0) throw new Error(`simulateMjcf: no keyframe "${desc.homeKeyframe}"`);
    mj.mj_resetDataKeyframe(m, d, key);
    const adr = desc.dims.map((x) => m.jnt_qposadr[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, x.joint)]);
    const act = desc.dims.map((x) => mj.mj_name2id(m, mj.mjtObj.mjOBJ_ACTUATOR.value, x.actuator));
    const read = () => {
      const q = d.qpos;
      return desc.dims.map((x, i) => applyMap(invertMap(x.toSim), q[adr[i]]));
    };
    const q0 = Float64Array.from(d.qpos);
    const start = read();
    if (targets) desc.dims.forEach((x, i) => (d.ctrl[act[i]] = applyMap(x.toSim, targets[i])));
    const steps = Math.round(seconds / m.opt.timestep);
    for (let s = 0; s < steps; s++) mj.mj_step(m, d);
    const q1 = d.qpos;
    let maxQposChange = 0;
    for (let i = 0; i < q0.length; i++) maxQposChange = Math.max(maxQposChange, Math.abs(q1[i] - q0[i]));
    return { start, end: read(), maxQposChange };
  } finally {
    d.delete();
    m.delete();
  }
}
