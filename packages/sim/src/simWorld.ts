import { applyMap, invertMap, type LinearMap } from '@vla/robot-core';
import { f64, i32, requireId, type MjData, type MjModel, type Mujoco } from './mujoco.js';
import { buildSceneXml, type SceneLayout } from './sceneBuilder.js';
import type { SimRobotSpec } from './simRobots.js';

/** A belt's motion: objects resting on its surface are driven toward `velocity` (m/s, world x/y). */
export interface BeltDrive {
  /** Belt top surface height (m) and footprint (world x/y bounds). */
  readonly top: number;
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  readonly velocity: readonly [number, number];
}

/** Position and orientation of a body. */
export interface BodyPose {
  readonly pos: [number, number, number];
  /** Rotation about z (rad) of the body's x axis, from its rotation matrix. */
  readonly yaw: number;
  /** Linear velocity (m/s). */
  readonly vel: [number, number, number];
}

// How hard the belt pulls a resting object toward its speed (1/s). The belt surface itself is nearly
// frictionless (its geom has priority), so this drive sets the speed; a gripper holding the object
// easily overrides it.
const BELT_GAIN = 80;

/**
 * One compiled scene in MuJoCo: the robot at its table with a task's objects. Maps the embodiment's
 * layout to joints and actuators, moves the belt's load, and steps physics. Create one per episode.
 */
export class SimWorld {
  readonly model: MjModel;
  readonly data: MjData;
  /** Physics steps per control tick. */
  readonly substeps: number;
  private readonly qadr: number[];
  private readonly act: number[];
  private readonly toSim: LinearMap[];
  private readonly objBodies = new Map<string, number>();
  private readonly objDofs = new Map<string, number>();
  private beltDrive: BeltDrive | undefined;

  /**
   * Compile `layout` around `robot`. Throws a clear error when MuJoCo rejects the XML (a malformed
   * MJCF) or a name the simulator needs is missing.
   */
  constructor(
    readonly mj: Mujoco,
    readonly robot: SimRobotSpec,
    readonly layout: SceneLayout,
    substeps: number,
    belt?: BeltDrive,
  ) {
    const e = robot.embodiment;
    this.substeps = substeps;
    const timestep = 1 / (e.controlHz * substeps);
    const xml = buildSceneXml(robot, layout, { timestep });
    this.model = compileMjcf(mj, xml, `${robot.name} scene`);
    const m = this.model;
    this.data = new mj.MjData(m);
    this.qadr = robot.mjcf.dims.map((x) => i32(m.jnt_qposadr)[requireId(mj, m, 'joint', x.joint)]);
    this.act = robot.mjcf.dims.map((x) => requireId(mj, m, 'actuator', x.actuator));
    this.toSim = robot.mjcf.dims.map((x) => x.toSim);
    for (const o of layout.objects) {
      const b = requireId(mj, m, 'body', o.name);
      this.objBodies.set(o.name, b);
      this.objDofs.set(o.name, i32(m.jnt_dofadr)[requireId(mj, m, 'joint', `${o.name}_free`)]);
    }
    this.beltDrive = belt;
    // The robot's keyframe predates the objects: MuJoCo pads its qpos with zeros, which would put every
    // free body at the origin. Start from qpos0 (the objects as placed) and copy the robot's joints.
    const key = requireId(mj, m, 'key', robot.mjcf.homeKeyframe);
    mj.mj_resetDataKeyframe(m, this.data, key);
    const free = new Set(
      layout.objects.map((o) => i32(m.jnt_qposadr)[requireId(mj, m, 'joint', `${o.name}_free`)]),
    );
    const qpos = f64(this.data.qpos);
    const qpos0 = f64(m.qpos0);
    for (const a of free) for (let k = 0; k < 7; k++) qpos[a + k] = qpos0[a + k];
    // Body joints (lift, waist, head) go to the robot's working pose; their actuators hold them.
    for (const [joint, value] of Object.entries(robot.bodyPose)) {
      f64(this.data.qpos)[i32(m.jnt_qposadr)[requireId(mj, m, 'joint', joint)]] = value;
      f64(this.data.ctrl)[requireId(mj, m, 'actuator', joint)] = value;
    }
    mj.mj_forward(m, this.data);
  }

  /** Simulated time (ms). */
  get timeMs(): number {
    return this.data.time * 1000;
  }

  /** Joint state in robot units, the embodiment's layout. */
  readState(): Float64Array {
    const q = f64(this.data.qpos);
    return Float64Array.from(this.qadr, (a, i) => applyMap(invertMap(this.toSim[i]), q[a]));
  }

  /** Current actuator targets in robot units. */
  readTargets(): Float64Array {
    const c = f64(this.data.ctrl);
    return Float64Array.from(this.act, (a, i) => applyMap(invertMap(this.toSim[i]), c[a]));
  }

  /** Set the actuator targets (robot units). Only the SimRobot calls this, with SafeCommand positions. */
  applyTargets(positions: readonly number[]): void {
    const c = f64(this.data.ctrl);
    this.act.forEach((a, i) => (c[a] = applyMap(this.toSim[i], positions[i])));
  }

  /** Pose and velocity of an object body. */
  pose(name: string): BodyPose {
    const b = this.objBodies.get(name);
    if (b === undefined) throw new Error(`sim: no object "${name}"`);
    const x = f64(this.data.xpos);
    const r = f64(this.data.xmat);
    const dof = this.objDofs.get(name)!;
    const qv = f64(this.data.qvel);
    return {
      pos: [x[3 * b], x[3 * b + 1], x[3 * b + 2]],
      yaw: Math.atan2(r[9 * b + 3], r[9 * b]),
      vel: [qv[dof], qv[dof + 1], qv[dof + 2]],
    };
  }

  /** World position of a site (e.g. a grip site). */
  sitePos(name: string): [number, number, number] {
    const s = requireId(this.mj, this.model, 'site', name);
    const x = f64(this.data.site_xpos);
    return [x[3 * s], x[3 * s + 1], x[3 * s + 2]];
  }

  /** World position of a point given in an object's body frame (e.g. one end of a bar). */
  pointOf(name: string, local: readonly number[]): [number, number, number] {
    const b = this.objBodies.get(name);
    if (b === undefined) throw new Error(`sim: no object "${name}"`);
    const x = f64(this.data.xpos);
    const r = f64(this.data.xmat).subarray(9 * b, 9 * b + 9);
    const out: [number, number, number] = [0, 0, 0];
    for (let i = 0; i < 3; i++)
      out[i] = x[3 * b + i] + r[3 * i] * local[0] + r[3 * i + 1] * local[1] + r[3 * i + 2] * local[2];
    return out;
  }

  /** Names of the bodies in contact with an object now (reads MuJoCo's contact list: not cheap). */
  contactsOf(name: string): Set<string> {
    const b = this.objBodies.get(name);
    if (b === undefined) throw new Error(`sim: no object "${name}"`);
    const { mj, model: m, data: d } = this;
    const bodyOf = m.geom_bodyid as Int32Array;
    const out = new Set<string>();
    const list = d.contact;
    try {
      for (let i = 0; i < d.ncon; i++) {
        const c = list.get(i);
        if (!c) continue;
        const [b1, b2] = [bodyOf[c.geom1], bodyOf[c.geom2]];
        c.delete();
        const other = b1 === b ? b2 : b2 === b ? b1 : -1;
        if (other >= 0) out.add(mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY.value, other) ?? '');
      }
    } finally {
      list.delete();
    }
    return out;
  }

  /** The full qpos (a copy), e.g. to seed inverse kinematics. */
  qpos(): Float64Array {
    return Float64Array.from(f64(this.data.qpos));
  }

  /** Advance one control tick: `substeps` physics steps with the belt drive applied before each. */
  tick(): void {
    for (let k = 0; k < this.substeps; k++) {
      if (this.beltDrive) this.driveBelt(this.beltDrive);
      this.mj.mj_step(this.model, this.data);
    }
  }

  private driveBelt(b: BeltDrive): void {
    const x = f64(this.data.xpos);
    const qv = f64(this.data.qvel);
    const xfrc = f64(this.data.xfrc_applied);
    const mass = f64(this.model.body_mass);
    for (const [name, body] of this.objBodies) {
      const dof = this.objDofs.get(name)!;
      const o = this.layout.objects.find((q) => q.name === name)!;
      const halfH = o.shape === 'box' ? o.size[2] : o.size[1];
      const onBelt =
        Math.abs(x[3 * body + 2] - halfH - b.top) < 0.004 &&
        x[3 * body] >= b.xRange[0] &&
        x[3 * body] <= b.xRange[1] &&
        x[3 * body + 1] >= b.yRange[0] &&
        x[3 * body + 1] <= b.yRange[1];
      for (let i = 0; i < 2; i++)
        xfrc[6 * body + i] = onBelt ? BELT_GAIN * mass[body] * (b.velocity[i] - qv[dof + i]) : 0;
    }
  }

  /** Free the MuJoCo model and data. */
  delete(): void {
    this.data.delete();
    this.model.delete();
  }
}

/** Compile MJCF text, turning MuJoCo's failure into an error that says what was being compiled. */
export function compileMjcf(mj: Mujoco, xml: string, what: string): MjModel {
  try {
    return mj.MjModel.from_xml_string(xml);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`sim: MuJoCo rejected the MJCF of the ${what}: ${msg.trim()}`);
  }
}
