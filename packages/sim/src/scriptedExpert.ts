import { ArmIk, topDownRotation, type V3 } from './armIk.js';
import { f64, requireId } from './mujoco.js';
import { halfHeight } from './pickPlaceTask.js';
import { Rng } from './rng.js';
import type { SceneObject } from './sceneBuilder.js';
import type { SimEnv } from './simEnv.js';
import type { SimArm } from './simRobots.js';
import type { TaskGoal } from './simTask.js';
import type { BodyPose } from './simWorld.js';

type Phase =
  | 'ready'
  | 'above'
  | 'descend'
  | 'close'
  | 'lift'
  | 'transfer'
  | 'receive'
  | 'handoff'
  | 'carry'
  | 'release'
  | 'retreat'
  | 'done';

/** Tuning of a {@link ScriptedExpert}; every field has a default. */
export interface ExpertOptions {
  /** Cartesian speed of free moves and of moves near objects (m/s). */
  readonly fastSpeed?: number;
  readonly slowSpeed?: number;
  /** Height of the pre-grasp pose above the grasp point, and of the lift (m). */
  readonly approachHeight?: number;
  readonly liftHeight?: number;
  /** Attempts per object before giving up on it. */
  readonly attempts?: number;
}

const HOLD_TICKS = 15;
// Finger capsule radius of robot-core's MJCF grippers, and how far inside the object the fingers aim (m).
const FINGER_RADIUS = 0.008;
const SQUEEZE = 0.01;
// Look-ahead (s) when following a moving object: covers the arm's tracking lag.
const LEAD = 0.15;
// The finger tips reach this far below the grip site (finger tip plus its radius, with margin).
const TIP_CLEARANCE = 0.03;
// A closed gripper holds something when its fingers stopped this far (m) short of the squeeze target.
const HOLD_MARGIN = 0.004;

/** One arm's commanded motion: joint targets, and the grip-site target and grasp yaw they were solved for. */
interface ArmMotion {
  q: number[];
  site: V3;
  yaw: number;
  /** A joint-space move in progress toward these joints, then through the rest of `jointPath`. */
  jointGoal?: number[];
  jointPath?: number[][];
}

/**
 * A scripted expert for the pick-place, conveyor-sort and handover tasks. It reads the ground truth
 * (object poses and velocities, the task's goals) and plans per object: move to a ready pose in joint
 * space (inverse kinematics from several seeds), then Cartesian moves of the grip site solved per tick
 * with `mj_jacSite` inverse kinematics: above the object, where a moving parcel will be (its position
 * plus velocity times the time to get there, clamped to the reachable window); down with the object,
 * close, lift, verify the grasp (retry if it slipped), carry over the bin and release. For a handover
 * the picking arm carries the object to the handover point, the receiving arm (already waiting above
 * the object's free end) grasps that end, the giver opens only once the receiver's fingers hold, and
 * the receiver places it. Make one per episode, after `env.reset`; `act()` returns absolute targets for
 * the whole layout, which the environment passes through the safety layer like any policy's.
 */
export class ScriptedExpert {
  private readonly env: SimEnv;
  private readonly iks: ArmIk[];
  private readonly o: Required<ExpertOptions>;
  private readonly target: Float64Array;
  private readonly arms: ArmMotion[];
  private readonly goals: TaskGoal[];
  private readonly dt: number;
  private phase: Phase = 'ready';
  private goalIndex = 0;
  private timer = 0;
  private tries = 0;
  private readyQ: number[] | undefined;
  // Grasp bookkeeping of the current goal: the table surface under the object, which arm holds it,
  // the receiver's sub-step, and the giver's grip relative to the object's centre.
  private surface = 0;
  private retreatZ = 0;
  private holder: 0 | 1 = 0;
  private receiveStep: 'above' | 'descend' | 'close' = 'above';
  private transferOffset: V3 = [0, 0, 0];

  constructor(env: SimEnv, options: ExpertOptions = {}) {
    this.env = env;
    this.o = {
      fastSpeed: options.fastSpeed ?? 0.35,
      slowSpeed: options.slowSpeed ?? 0.15,
      approachHeight: options.approachHeight ?? 0.09,
      liftHeight: options.liftHeight ?? 0.14,
      attempts: options.attempts ?? 3,
    };
    const w = env.world;
    const dims = env.robotSpec.embodiment.dims;
    this.iks = env.robotSpec.arms.map(
      (a) =>
        new ArmIk(
          w.mj,
          w.model,
          a,
          a.jointDims.map((i) => dims[i].name),
        ),
    );
    this.target = w.readState();
    this.arms = env.robotSpec.arms.map((a, k) => {
      const q = a.jointDims.map((i) => this.target[i]);
      return { q, site: this.iks[k].forward(w.qpos()).pos as V3, yaw: 0 };
    });
    this.goals = [...env.instance.goals];
    this.dt = 1 / env.robotSpec.embodiment.controlHz;
    if (this.goals[0]) this.holder = this.goals[0].arm;
  }

  /** True once every goal was attempted. */
  get finished(): boolean {
    return this.phase === 'done';
  }

  /** The next action: absolute targets in robot units, the embodiment's layout. */
  act(): Float64Array {
    const goal = this.goals[this.goalIndex];
    if (goal && this.phase !== 'done') this.advance(goal);
    return Float64Array.from(this.target);
  }

  /** Free the inverse-kinematics scratch data. */
  delete(): void {
    for (const ik of this.iks) ik.delete();
  }

  private advance(goal: TaskGoal): void {
    const env = this.env;
    const w = env.world;
    const g = goal.arm;
    const arm = env.robotSpec.arms[g];
    const obj = this.object(goal);
    const pose = w.pose(goal.object);
    // While the object rests (before the grasp) its surface is where it stands; keep that from then on.
    if (this.phase === 'ready' || this.phase === 'above') this.surface = pose.pos[2] - halfHeight(obj);
    const surface = this.surface;
    const graspZ = surface + Math.max(halfHeight(obj), TIP_CLEARANCE);
    const measured = this.measuredSite(arm);
    const ws = env.robotSpec.workspace;
    const moving = Math.hypot(pose.vel[0], pose.vel[1]) > 0.005;
    // The grasp point on the object: its centre, or for a handover the end the giver takes.
    const grip = this.gripPoint(goal, obj, pose, graspZ);
    // Where the grasp point will be `lead` seconds from now; moving parcels are met inside the window.
    const predict = (lead: number, clamp = true): V3 => {
      const p: V3 = [grip[0] + pose.vel[0] * lead, grip[1] + pose.vel[1] * lead, graspZ];
      if (moving && clamp) p[1] = Math.min(ws.intercept[1], Math.max(ws.intercept[0], p[1]));
      return p;
    };
    this.stepJointMoves();

    switch (this.phase) {
      case 'ready': {
        if (!this.readyQ) {
          // Parcels on a belt (still at rest on the first tick) are met at the window's upstream end.
          const at: V3 =
            moving || env.instance.belt
              ? [ws.beltX, ws.intercept[1], pose.pos[2] + 0.12]
              : [grip[0], grip[1], pose.pos[2] + 0.12];
          this.readyQ = this.solveReady(g, at, this.graspYaws(obj, pose)).q;
          this.startJointMove(g, this.readyQ);
          if (goal.receiver !== undefined) this.prepareReceiver(goal, obj, pose, graspZ);
        }
        this.setGripper(arm, 'open');
        const state = w.readState();
        const q = this.arms[g].q;
        const lag = Math.max(...arm.jointDims.map((i, k) => Math.abs(state[i] - q[k])));
        // Joint tracking leaves a small steady error under load; go on once close or after a while.
        if (!this.arms[g].jointGoal && (lag < 0.08 || ++this.timer > 20)) {
          this.arms[g].site = this.iks[g].forward(this.withArm(w.qpos(), arm, q)).pos as V3;
          this.arms[g].yaw = this.chooseYaw(g, obj, pose, predict(1));
          this.enter('above');
        }
        return;
      }
      case 'above': {
        // Still parcels: straight above. Moving ones: where they will be, inside the reachable window;
        // a parcel still upstream of the window is waited for, and the descent starts when it is below.
        const goalPos = predict(LEAD);
        goalPos[2] = graspZ + this.o.approachHeight;
        this.moveSite(g, goalPos, this.o.fastSpeed, 0.25);
        this.setGripper(arm, 'open');
        const now = predict(LEAD, false);
        const aligned = Math.hypot(now[0] - measured[0], now[1] - measured[1]) < 0.012;
        if (aligned && Math.abs(measured[2] - goalPos[2]) < 0.015) this.enter('descend');
        return;
      }
      case 'descend': {
        const p = predict(LEAD, false);
        this.moveSite(g, p, this.o.slowSpeed, 0.25);
        this.setGripper(arm, 'open');
        if (near(this.arms[g].site, p, 0.003) && Math.abs(measured[2] - p[2]) < 0.008) this.enter('close');
        return;
      }
      case 'close': {
        const p = predict(LEAD, false);
        this.moveSite(g, p, this.o.slowSpeed, 0.25);
        this.setGripper(arm, 'closed');
        if (++this.timer > HOLD_TICKS) this.enter('lift');
        return;
      }
      case 'lift': {
        const s = this.arms[g].site;
        const goalPos: V3 = [s[0], s[1], graspZ + this.o.liftHeight];
        this.moveSite(g, goalPos, this.o.slowSpeed, 0.25);
        this.setGripper(arm, 'closed');
        if (near(measured, goalPos, 0.015) || ++this.timer > 60) {
          // The grasp held if the object came up with the gripper.
          if (pose.pos[2] > surface + halfHeight(obj) + 0.05) {
            this.holder = g;
            if (goal.receiver === undefined) this.enter('carry');
            else {
              // The object goes to the handover point with the giver's grip fixed on it.
              const c = pose.pos;
              this.transferOffset = [s[0] - c[0], s[1] - c[1], s[2] - c[2]];
              this.enter('transfer');
            }
          } else if (++this.tries < this.o.attempts) this.enter('above');
          else this.nextGoal();
        }
        return;
      }
      case 'transfer': {
        // The giver brings the object's centre over the handover point, keeping its grip yaw.
        const h = ws.handover.at;
        const off = this.transferOffset;
        const goalPos: V3 = [h[0] + off[0], h[1] + off[1], env.robotSpec.tableHeight + h[2] + off[2]];
        this.moveSite(g, goalPos, this.o.fastSpeed, 0.25);
        this.setGripper(arm, 'closed');
        const r = goal.receiver!;
        if (pose.pos[2] < surface + 0.01) return this.dropped();
        if (
          near(this.arms[g].site, goalPos, 0.004) &&
          (near(measured, goalPos, 0.015) || ++this.timer > 30)
        ) {
          if (!this.arms[r].jointGoal) this.enterReceive();
        }
        return;
      }
      case 'receive': {
        // The giver holds still; the receiver grasps the object's free end where it actually is.
        const r = goal.receiver!;
        const rArm = env.robotSpec.arms[r];
        this.moveSite(g, this.arms[g].site, this.o.slowSpeed, 0.25);
        this.setGripper(arm, 'closed');
        if (pose.pos[2] < surface + 0.01) return this.dropped();
        const end = this.receivePoint(goal, obj, pose);
        const rMeasured = this.measuredSite(rArm);
        if (this.receiveStep === 'above') {
          const goalPos: V3 = [end[0], end[1], end[2] + this.o.approachHeight];
          this.arms[r].yaw = this.receiveYaw(r, obj, pose);
          this.moveSite(r, goalPos, this.o.fastSpeed, 0.25);
          this.setGripper(rArm, 'open');
          const aligned = Math.hypot(end[0] - rMeasured[0], end[1] - rMeasured[1]) < 0.01;
          if (aligned && Math.abs(rMeasured[2] - goalPos[2]) < 0.015) this.receiveStep = 'descend';
        } else if (this.receiveStep === 'descend') {
          this.moveSite(r, end, this.o.slowSpeed, 0.25);
          this.setGripper(rArm, 'open');
          if (near(this.arms[r].site, end, 0.003) && near(rMeasured, end, 0.01)) {
            this.receiveStep = 'close';
            this.timer = 0;
          }
        } else {
          this.moveSite(r, end, this.o.slowSpeed, 0.25);
          this.setGripper(rArm, 'closed');
          if (++this.timer > HOLD_TICKS) {
            // Release only once the receiver's fingers stopped on the object.
            if (this.holds(rArm, obj)) this.enter('handoff');
            else if (++this.tries < this.o.attempts) this.enterReceive();
            else this.nextGoal();
          }
        }
        return;
      }
      case 'handoff': {
        const r = goal.receiver!;
        const rArm = env.robotSpec.arms[r];
        this.setGripper(rArm, 'closed');
        this.moveSite(r, this.arms[r].site, this.o.slowSpeed, 0.25);
        this.setGripper(arm, 'open');
        if (this.timer++ < HOLD_TICKS) {
          this.moveSite(g, this.arms[g].site, this.o.slowSpeed, 0.25);
          return;
        }
        // The giver backs off upward; then the receiver carries.
        if (this.timer === HOLD_TICKS + 1) this.retreatZ = this.arms[g].site[2] + 0.06;
        const s = this.arms[g].site;
        const up: V3 = [s[0], s[1], this.retreatZ];
        this.moveSite(g, up, this.o.slowSpeed, 0.05);
        if (near(s, up, 0.004)) {
          this.holder = r;
          this.tries = 0;
          this.enter('carry');
        }
        return;
      }
      case 'carry': {
        const h = this.holder;
        const hArm = env.robotSpec.arms[h];
        const hMeasured = this.measuredSite(hArm);
        const b = goal.bin;
        const goalPos: V3 = [b.pos[0], b.pos[1], b.pos[2] + b.wallHeight + 0.07];
        this.moveSite(h, goalPos, this.o.fastSpeed, 0.05);
        this.setGripper(hArm, 'closed');
        // Release over the bin; when the arm cannot get closer, anywhere well inside the walls will do.
        const inside =
          Math.abs(hMeasured[0] - b.pos[0]) < b.half[0] - 0.025 &&
          Math.abs(hMeasured[1] - b.pos[1]) < b.half[1] - 0.025;
        if (
          near(this.arms[h].site, goalPos, 0.004) &&
          (near(hMeasured, goalPos, 0.02) || (inside && ++this.timer > 20))
        )
          this.enter('release');
        if (pose.pos[2] < surface + 0.01) this.dropped();
        return;
      }
      case 'release': {
        this.setGripper(env.robotSpec.arms[this.holder], 'open');
        if (++this.timer > HOLD_TICKS) this.enter('retreat');
        return;
      }
      case 'retreat': {
        const h = this.holder;
        const s = this.arms[h].site;
        if (this.timer++ === 0) this.retreatZ = s[2] + 0.05;
        const goalPos: V3 = [s[0], s[1], this.retreatZ];
        this.moveSite(h, goalPos, this.o.slowSpeed, 0.05);
        if (near(s, goalPos, 0.004)) this.nextGoal();
        return;
      }
      case 'done':
        return;
    }
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.timer = 0;
  }

  private enterReceive(): void {
    this.receiveStep = 'above';
    this.enter('receive');
  }

  /** The object fell on the way: try again from above with the picking arm, or give up on it. */
  private dropped(): void {
    const goal = this.goals[this.goalIndex];
    if (++this.tries < this.o.attempts && goal.receiver === undefined) this.enter('above');
    else this.nextGoal();
  }

  private nextGoal(): void {
    this.goalIndex++;
    this.tries = 0;
    if (this.goalIndex >= this.goals.length) {
      this.enter('done');
      return;
    }
    const goal = this.goals[this.goalIndex];
    const pose = this.env.world.pose(goal.object);
    this.holder = goal.arm;
    this.arms[goal.arm].yaw = this.chooseYaw(goal.arm, this.object(goal), pose, [
      pose.pos[0],
      pose.pos[1],
      pose.pos[2],
    ]);
    this.enter('above');
  }

  private object(goal: TaskGoal): SceneObject {
    return this.env.instance.layout.objects.find((x) => x.name === goal.object)!;
  }

  /**
   * Where the picking arm grasps the object (world, at height `z`): its centre; for a handover, the
   * end of the object's long axis on the giver's side, so the other end stays free for the receiver.
   */
  private gripPoint(goal: TaskGoal, obj: SceneObject, pose: BodyPose, z: number): V3 {
    if (goal.receiver === undefined) return [pose.pos[0], pose.pos[1], z];
    const p = this.env.world.pointOf(goal.object, [this.giverSign(pose) * handoverGripOffset(obj), 0, 0]);
    return [p[0], p[1], z];
  }

  /** +1 when the object's long (local x) axis points to the giver's side of the handover, else -1. */
  private giverSign(pose: BodyPose): 1 | -1 {
    const side = this.env.robotSpec.workspace.handover.giverSide;
    return Math.cos(pose.yaw) * side[0] + Math.sin(pose.yaw) * side[1] >= 0 ? 1 : -1;
  }

  /**
   * The receiver's grasp point: the free end, at the giver's grasp height above the object's centre
   * (in the object's frame, so a bar that sags in the giver's hand is met where it is).
   */
  private receivePoint(goal: TaskGoal, obj: SceneObject, pose: BodyPose): V3 {
    const above = Math.max(halfHeight(obj), TIP_CLEARANCE) - halfHeight(obj);
    const d = -this.giverSign(pose) * handoverGripOffset(obj);
    return this.env.world.pointOf(goal.object, [d, 0, above]);
  }

  /**
   * Before the pick: solve the receiver's wait pose above where the free end will be at the handover
   * point, and start its joint-space move there; it runs alongside the giver's motions.
   */
  private prepareReceiver(goal: TaskGoal, obj: SceneObject, pose: BodyPose, graspZ: number): void {
    const r = goal.receiver!;
    const h = this.env.robotSpec.workspace.handover.at;
    const c = pose.pos;
    const end = this.receivePoint(goal, obj, pose);
    const top = this.env.robotSpec.tableHeight;
    const z = top + h[2] + (graspZ - c[2]) + this.o.approachHeight;
    const at: V3 = [h[0] + end[0] - c[0], h[1] + end[1] - c[1], z];
    const sol = this.solveReady(r, at, this.graspYaws(obj, pose));
    this.startJointMove(r, sol.q);
    this.arms[r].yaw = sol.yaw;
  }

  /** The receiver's grasp yaw across the object at `end`: the symmetric choice nearest its current one. */
  private receiveYaw(r: 0 | 1, obj: SceneObject, pose: BodyPose): number {
    const now = this.arms[r].yaw;
    let best = now;
    let bestD = Infinity;
    for (const y of this.graspYaws(obj, pose)) {
      const dy = Math.abs(wrapAngle(y - now));
      if (dy < bestD) [best, bestD] = [now + wrapAngle(y - now), dy];
    }
    return best;
  }

  /** Advance joint-space moves (ready poses) by the joint speed limit of the expert. */
  private stepJointMoves(): void {
    const maxStep = 2.0 * this.dt;
    this.env.robotSpec.arms.forEach((arm, k) => {
      const m = this.arms[k];
      if (!m.jointGoal) return;
      let err = 0;
      m.q = m.q.map((v, j) => {
        const d = m.jointGoal![j] - v;
        const next = v + Math.max(-maxStep, Math.min(maxStep, d));
        err = Math.max(err, Math.abs(m.jointGoal![j] - next));
        return next;
      });
      this.setArm(arm, m.q);
      if (err < 1e-9) {
        m.jointGoal = m.jointPath?.shift();
        m.site = this.iks[k].forward(this.withArm(this.env.world.qpos(), arm, m.q)).pos as V3;
      }
    });
  }

  /** Start a joint-space move of arm `k` to `goal`, after the rise of {@link riseFromBelowTable}. */
  private startJointMove(k: 0 | 1, goal: number[]): void {
    const m = this.arms[k];
    const rise = this.riseFromBelowTable(k);
    const path = [...rise, ...this.clearOfTable(k, rise.at(-1) ?? m.q, goal, 3)];
    m.jointGoal = path.shift();
    m.jointPath = path;
  }

  /**
   * Waypoints from joints `a` to `b` (`b` included) whose straight joint-space interpolation keeps the
   * grip site above the table: where it would dip, a waypoint raised 20 cm above the table is inserted
   * (solved by inverse kinematics from the midpoint), recursively up to `depth` times.
   */
  private clearOfTable(k: 0 | 1, a: number[], b: number[], depth: number): number[][] {
    const arm = this.env.robotSpec.arms[k];
    const top = this.env.robotSpec.tableHeight;
    const lerp = (t: number) => a.map((v, j) => v + (b[j] - v) * t);
    const siteAt = (q: number[]) => this.iks[k].forward(this.withArm(this.env.world.qpos(), arm, q)).pos;
    const low = [0.25, 0.5, 0.75].some((t) => siteAt(lerp(t))[2] < top + 0.08);
    if (!low || depth === 0) return [b];
    const mid = lerp(0.5);
    const p = siteAt(mid);
    const r = this.iks[k].solve(
      this.withArm(this.env.world.qpos(), arm, mid),
      { pos: [p[0], p[1], Math.max(p[2], top + 0.2)], rot: topDownRotation(arm, this.arms[k].yaw) },
      60,
      0.02,
    );
    return [...this.clearOfTable(k, a, r.q, depth - 1), ...this.clearOfTable(k, r.q, b, depth - 1)];
  }

  /**
   * Joint waypoints that lift a gripper which starts below the table top (an arm hanging at its home
   * pose) straight up to above the table, backing off from its edge, so that the swing to a ready
   * pose does not catch the table. Empty when the gripper is already above the table.
   */
  private riseFromBelowTable(k: 0 | 1): number[][] {
    const arm = this.env.robotSpec.arms[k];
    const top = this.env.robotSpec.tableHeight;
    let q = this.arms[k].q;
    const start = this.iks[k].forward(this.withArm(this.env.world.qpos(), arm, q)).pos;
    if (start[2] >= top + 0.05) return [];
    const path: number[][] = [];
    const steps = 6;
    for (let i = 1; i <= steps; i++) {
      const f = i / steps;
      const p: V3 = [start[0] - 0.08 * f, start[1], start[2] + (top + 0.15 - start[2]) * f];
      // Orientation barely weighted: the gripper turns top-down later, above the table.
      const r = this.iks[k].solve(
        this.withArm(this.env.world.qpos(), arm, q),
        { pos: p, rot: topDownRotation(arm, 0) },
        60,
        0.02,
      );
      q = r.q;
      path.push(q);
    }
    return path;
  }

  /** Move arm `k`'s grip-site target toward `goal` by at most `speed·dt` and solve the arm for it. */
  private moveSite(k: 0 | 1, goal: readonly number[], speed: number, rotWeight: number): void {
    const m = this.arms[k];
    const arm = this.env.robotSpec.arms[k];
    const d = goal.map((v, i) => v - m.site[i]);
    const len = Math.hypot(...d);
    const step = speed * this.dt;
    const s = len > step ? step / len : 1;
    m.site = m.site.map((v, i) => v + d[i] * s) as V3;
    const full = this.withArm(this.env.world.qpos(), arm, m.q);
    // A parallel gripper grasps the same at yaw and yaw + π: aim for the one it is nearer to, rather
    // than twist the wrist half a turn.
    const rot = this.iks[k].forward(full).rot;
    const opening = [0, 1].map(
      (i) => rot[3 * i] * arm.opening[0] + rot[3 * i + 1] * arm.opening[1] + rot[3 * i + 2] * arm.opening[2],
    );
    if (opening[0] * Math.cos(m.yaw) + opening[1] * Math.sin(m.yaw) < -0.2) m.yaw += Math.PI;
    const r = this.iks[k].solve(full, { pos: m.site, rot: topDownRotation(arm, m.yaw) }, 25, rotWeight);
    m.q = r.q;
    this.setArm(arm, r.q);
  }

  /**
   * A configuration with the grip site at `at` and a top-down grasp at one of `yaws`, from several
   * seeds: the move to it happens in joint space.
   */
  private solveReady(k: 0 | 1, at: V3, yaws: readonly number[]): { q: number[]; yaw: number } {
    const w = this.env.world;
    const arm = this.env.robotSpec.arms[k];
    const dims = this.env.robotSpec.embodiment.dims;
    const rng = new Rng(7);
    let best: { q: number[]; yaw: number; cost: number } | undefined;
    const rise = this.riseFromBelowTable(k);
    const from = rise.at(-1) ?? this.arms[k].q;
    const seeds = [
      from,
      ...Array.from({ length: 24 }, () =>
        arm.jointDims.map((i) => rng.uniform(dims[i].lower, dims[i].upper)),
      ),
    ];
    for (const seed of seeds) {
      for (const yaw of yaws) {
        const r = this.iks[k].solve(
          this.withArm(w.qpos(), arm, seed),
          { pos: at, rot: topDownRotation(arm, yaw) },
          80,
        );
        // Prefer solutions that reach, then ones with joints away from their limits.
        const margin = Math.min(
          ...r.q.map((v, j) => Math.min(v - dims[arm.jointDims[j]].lower, dims[arm.jointDims[j]].upper - v)),
        );
        // Near the joints it starts from: a short joint-space swing stays clear of the table.
        const travel = r.q.reduce((a, v, j) => a + Math.abs(v - from[j]), 0);
        const cost = r.posErr * 100 + r.rotErr * 5 - Math.min(margin, 0.3) + 0.02 * travel;
        if (!best || cost < best.cost) best = { q: r.q, yaw, cost };
      }
    }
    return best!;
  }

  /**
   * Grasp yaws across an object of yaw `pose.yaw`, one per symmetry: a square box every 90°, an
   * elongated box across its narrow side every 180°, a cylinder every 45°.
   */
  private graspYaws(obj: SceneObject, pose: BodyPose): number[] {
    if (obj.shape === 'cylinder') return [0, 1, 2, 3, 4, 5, 6, 7].map((k) => pose.yaw + (k * Math.PI) / 4);
    if (Math.abs(obj.size[0] - obj.size[1]) < 1e-6)
      return [0, 1, 2, 3].map((k) => pose.yaw + (k * Math.PI) / 2);
    const across = obj.size[0] > obj.size[1] ? Math.PI / 2 : 0;
    return [0, 1].map((k) => pose.yaw + across + k * Math.PI);
  }

  /** The grasp yaw (one of the object's symmetric yaws) that arm `k` reaches best from where it is. */
  private chooseYaw(k: 0 | 1, obj: SceneObject, pose: BodyPose, at: V3): number {
    const w = this.env.world;
    const arm = this.env.robotSpec.arms[k];
    const q0 = this.arms[k].q;
    let best = { yaw: pose.yaw, cost: Infinity };
    for (const yaw of this.graspYaws(obj, pose)) {
      let cost = 0;
      let q = q0;
      for (const dz of [this.o.approachHeight, 0]) {
        const r = this.iks[k].solve(
          this.withArm(w.qpos(), arm, q),
          { pos: [at[0], at[1], at[2] + dz], rot: topDownRotation(arm, yaw) },
          60,
        );
        cost += r.posErr * 100 + r.rotErr * 5 + 0.02 * r.q.reduce((a, v, j) => a + Math.abs(v - q0[j]), 0);
        q = r.q;
      }
      if (cost < best.cost) best = { yaw, cost };
    }
    return best.yaw;
  }

  private measuredSite(arm: SimArm): V3 {
    const w = this.env.world;
    const s = requireId(w.mj, w.model, 'site', arm.gripSite);
    const x = f64(w.data.site_xpos);
    return [x[3 * s], x[3 * s + 1], x[3 * s + 2]];
  }

  private withArm(full: Float64Array, arm: SimArm, q: readonly number[]): Float64Array {
    const w = this.env.world;
    const dims = this.env.robotSpec.mjcf.dims;
    arm.jointDims.forEach((i, k) => {
      const j = requireId(w.mj, w.model, 'joint', dims[i].joint);
      full[(w.model.jnt_qposadr as Int32Array)[j]] = q[k];
    });
    return full;
  }

  private setArm(arm: SimArm, q: readonly number[]): void {
    arm.jointDims.forEach((i, k) => (this.target[i] = q[k]));
  }

  /** Finger travel (m from closed) that squeezes `obj` across its narrow side. */
  private squeezeTravel(obj: SceneObject): number {
    const half = obj.shape === 'box' ? Math.min(obj.size[0], obj.size[1]) : obj.size[0];
    return Math.max(0, half + FINGER_RADIUS - SQUEEZE);
  }

  /** The arm's fingers stopped on something: their travel is well short of the squeeze target. */
  private holds(arm: SimArm, obj: SceneObject): boolean {
    const toSim = this.env.robotSpec.mjcf.dims[arm.gripperDim].toSim;
    const travel = this.env.world.readState()[arm.gripperDim] * toSim.scale + toSim.offset;
    return travel > this.squeezeTravel(obj) + HOLD_MARGIN;
  }

  /**
   * Open fully, or close to a squeeze: the finger target sits `SQUEEZE` inside the object's half width,
   * so the position actuator presses with kp·SQUEEZE and reopens quickly (the gripper's velocity limit
   * applies to the command, and a command driven to fully closed takes long to come back).
   */
  private setGripper(arm: SimArm, state: 'open' | 'closed'): void {
    const d = this.env.robotSpec.embodiment.dims[arm.gripperDim];
    const toSim = this.env.robotSpec.mjcf.dims[arm.gripperDim].toSim;
    // Robot units of "open" and "closed" differ per embodiment (metres, vendor units, reversed scales):
    // go through the MJCF's map from robot units to finger travel.
    const toUnits = (travel: number) => (travel - toSim.offset) / toSim.scale;
    const openU = toUnits(this.env.robotSpec.spec.arms[arm.side === 'left' ? 0 : 1].gripper.fingerTravel);
    if (state === 'open') {
      this.target[arm.gripperDim] = Math.min(d.upper, Math.max(d.lower, openU));
      return;
    }
    const goal = this.goals[Math.min(this.goalIndex, this.goals.length - 1)];
    const u = toUnits(this.squeezeTravel(this.object(goal)));
    this.target[arm.gripperDim] = Math.min(d.upper, Math.max(d.lower, u));
  }
}

/** Distance (m) from an elongated object's centre to where each hand grasps it in a handover. */
function handoverGripOffset(obj: Pick<SceneObject, 'size'>): number {
  return Math.max(obj.size[0], obj.size[1]) * 0.55;
}

function wrapAngle(a: number): number {
  return a - 2 * Math.PI * Math.round(a / (2 * Math.PI));
}

function near(a: readonly number[], b: readonly number[], tol: number): boolean {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) < tol;
}
