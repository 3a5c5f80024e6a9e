import { f64, i32, requireId, type MjData, type MjModel, type Mujoco } from './mujoco.js';
import type { SimArm } from './simRobots.js';

/** A 3-vector. */
export type V3 = [number, number, number];

/** A target pose for a grip site: position and a 3×3 rotation (row-major, columns = site axes in world). */
export interface GripPose {
  readonly pos: readonly number[];
  readonly rot: readonly number[];
}

/** Result of {@link ArmIk.solve}. */
export interface IkResult {
  /** Arm joint positions, shoulder to wrist (inside the joint limits). */
  readonly q: number[];
  /** Remaining position error (m) and orientation error (rad, approx.). */
  readonly posErr: number;
  readonly rotErr: number;
}

const cross = (a: readonly number[], b: readonly number[]): V3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

/**
 * The rotation that points a gripper's `approach` axis straight down and its `opening` axis along the
 * horizontal direction at `yaw` (rad): a top-down grasp across an object rotated by `yaw`.
 */
export function topDownRotation(arm: Pick<SimArm, 'approach' | 'opening'>, yaw: number): number[] {
  const down: V3 = [0, 0, -1];
  const h: V3 = [Math.cos(yaw), Math.sin(yaw), 0];
  const world = [down, h, cross(down, h)];
  const body = [arm.approach, arm.opening, cross(arm.approach, arm.opening)];
  // R = Σ_k world_k ⊗ body_k maps each body axis onto its world axis.
  const r = new Array<number>(9).fill(0);
  for (let k = 0; k < 3; k++)
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] += world[k][i] * body[k][j];
  return r;
}

/**
 * The rotation vector (axis × angle, world frame) that turns rotation `cur` into `tgt` (both row-major).
 * A log map, not the small-angle ½ Σ cur_k × tgt_k, which vanishes at a half turn: with it a gripper
 * turned 180° about its axis looked aligned and later twisted round mid-motion.
 */
function rotationError(cur: ArrayLike<number>, tgt: ArrayLike<number>): V3 {
  // E = tgt · curᵀ
  const E = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) E[3 * i + j] += tgt[3 * i + k] * cur[3 * j + k];
  const v: V3 = [(E[7] - E[5]) / 2, (E[2] - E[6]) / 2, (E[3] - E[1]) / 2];
  const s = Math.hypot(...v);
  const c = (E[0] + E[4] + E[8] - 1) / 2;
  const angle = Math.atan2(s, c);
  if (s > 1e-6) return v.map((x) => (x / s) * angle) as V3;
  if (c > 0) return [0, 0, 0];
  // A half turn: the axis is the column of E + I with the largest norm.
  const cols = [0, 1, 2].map((j) => [
    E[j] + (j === 0 ? 1 : 0),
    E[3 + j] + (j === 1 ? 1 : 0),
    E[6 + j] + (j === 2 ? 1 : 0),
  ]);
  const best = cols.reduce((a, b) => (Math.hypot(...b) > Math.hypot(...a) ? b : a));
  const n = Math.hypot(...best);
  return best.map((x) => (x / n) * Math.PI) as V3;
}

/** Solves a 6×6 (or n×n) system in place by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number): void {
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
      [b[c], b[p]] = [b[p], b[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / a[c * n + c];
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < n; k++) s -= a[r * n + k] * b[k];
    b[r] = s / a[r * n + r];
  }
}

/**
 * Inverse kinematics of one arm's grip site by damped least squares on MuJoCo's site Jacobian
 * (`mj_jacSite`). It works on its own scratch `MjData`, so solving never disturbs the simulation.
 */
export class ArmIk {
  private readonly scratch: MjData;
  private readonly site: number;
  private readonly qadr: number[];
  private readonly dadr: number[];
  private readonly lo: number[];
  private readonly hi: number[];
  private readonly jacp: ReturnType<Mujoco['DoubleBuffer']['FromArray']>;
  private readonly jacr: ReturnType<Mujoco['DoubleBuffer']['FromArray']>;

  constructor(
    private readonly mj: Mujoco,
    private readonly m: MjModel,
    arm: SimArm,
    jointNames: readonly string[],
  ) {
    this.scratch = new mj.MjData(m);
    this.site = requireId(mj, m, 'site', arm.gripSite);
    const ids = jointNames.map((j) => requireId(mj, m, 'joint', j));
    this.qadr = ids.map((j) => i32(m.jnt_qposadr)[j]);
    this.dadr = ids.map((j) => i32(m.jnt_dofadr)[j]);
    this.lo = ids.map((j) => f64(m.jnt_range)[2 * j]);
    this.hi = ids.map((j) => f64(m.jnt_range)[2 * j + 1]);
    this.jacp = new mj.DoubleBuffer(3 * m.nv);
    this.jacr = new mj.DoubleBuffer(3 * m.nv);
  }

  /** Grip-site position and rotation (row-major) for the full configuration `qpos`. */
  forward(qpos: ArrayLike<number>): GripPose {
    const d = this.scratch;
    f64(d.qpos).set(qpos);
    this.mj.mj_kinematics(this.m, d);
    const s = this.site;
    return {
      pos: Array.from(f64(d.site_xpos).subarray(3 * s, 3 * s + 3)),
      rot: Array.from(f64(d.site_xmat).subarray(9 * s, 9 * s + 9)),
    };
  }

  /**
   * Arm joints that put the grip site at `target`, starting from the configuration `qpos` (the other
   * joints stay as they are there). `rotWeight` trades orientation against position (m per rad).
   */
  solve(qpos: ArrayLike<number>, target: GripPose, iterations = 60, rotWeight = 0.25): IkResult {
    const { mj, m } = this;
    const d = this.scratch;
    const n = this.qadr.length;
    f64(d.qpos).set(qpos);
    const q = this.qadr.map((a) => f64(d.qpos)[a]);
    const e = new Float64Array(6);
    const jj = new Float64Array(36);
    let posErr = Infinity;
    let rotErr = Infinity;
    for (let it = 0; it <= iterations; it++) {
      const qp = f64(d.qpos);
      this.qadr.forEach((a, k) => (qp[a] = q[k]));
      mj.mj_kinematics(m, d);
      mj.mj_comPos(m, d);
      const s = this.site;
      const p = f64(d.site_xpos).subarray(3 * s, 3 * s + 3);
      const r = f64(d.site_xmat).subarray(9 * s, 9 * s + 9);
      for (let i = 0; i < 3; i++) e[i] = target.pos[i] - p[i];
      const w = rotationError(r, target.rot);
      for (let i = 0; i < 3; i++) e[3 + i] = w[i] * rotWeight;
      posErr = Math.hypot(e[0], e[1], e[2]);
      rotErr = Math.hypot(w[0], w[1], w[2]);
      if (it === iterations || (posErr < 2e-4 && rotErr < 2e-3)) break;
      mj.mj_jacSite(m, d, this.jacp, this.jacr, s);
      const jp = this.jacp.GetView() as Float64Array;
      const jr = this.jacr.GetView() as Float64Array;
      // J is 6×n over this arm's dofs (rows 3..5 scaled like the error).
      const J = new Float64Array(6 * n);
      for (let k = 0; k < n; k++) {
        const c = this.dadr[k];
        for (let i = 0; i < 3; i++) {
          J[i * n + k] = jp[i * m.nv + c];
          J[(3 + i) * n + k] = jr[i * m.nv + c] * rotWeight;
        }
      }
      // dq = Jᵀ (J Jᵀ + λ² I)⁻¹ e
      const lambda2 = 1e-4;
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          let sum = i === j ? lambda2 : 0;
          for (let k = 0; k < n; k++) sum += J[i * n + k] * J[j * n + k];
          jj[i * 6 + j] = sum;
        }
      const y = Float64Array.from(e);
      solve(jj, y, 6);
      for (let k = 0; k < n; k++) {
        let dq = 0;
        for (let i = 0; i < 6; i++) dq += J[i * n + k] * y[i];
        dq = Math.max(-0.3, Math.min(0.3, dq));
        q[k] = Math.min(this.hi[k], Math.max(this.lo[k], q[k] + dq));
      }
    }
    return { q, posErr, rotErr };
  }

  /** Free the scratch data and buffers. */
  delete(): void {
    this.scratch.delete();
    this.jacp.delete();
    this.jacr.delete();
  }
}
