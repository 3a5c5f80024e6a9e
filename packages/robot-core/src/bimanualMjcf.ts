import type { Embodiment } from './embodiment.js';
import { applyMap, type LinearMap } from './ros/linearMap.js';

/** A 3-vector. */
export type Vec3 = readonly [number, number, number];

/** One arm link and the joint that moves it. Positions are in the parent link's frame (metres). */
export interface MjcfLinkSpec {
  /** Embodiment dim name; also the MJCF joint name. */
  readonly joint: string;
  /** Joint axis in the link frame. */
  readonly axis: Vec3;
  /** Where the joint (this link's frame) sits in the parent frame. */
  readonly pos: Vec3;
  /** Far end of the link's capsule in its own frame; usually the next link's `pos`. */
  readonly tip: Vec3;
  /** Capsule radius (m). */
  readonly radius: number;
  /** Link mass (kg), approximate. */
  readonly mass: number;
  /** Position-actuator stiffness (N·m/rad). */
  readonly kp: number;
  /** Actuator torque limit (N·m). */
  readonly torque: number;
}

/** A parallel gripper with two slide fingers driven together. */
export interface MjcfGripperSpec {
  /** Embodiment dim name of the gripper. */
  readonly dim: string;
  /** Robot units → travel of each finger from closed (m). */
  readonly toFinger: LinearMap;
  /** Largest travel per finger (m). */
  readonly fingerTravel: number;
  /** Gripper base position in the last link's frame. */
  readonly pos: Vec3;
  /** Direction the fingers point (unit, last link frame). */
  readonly approach: Vec3;
  /** Direction finger 1 opens along (unit, perpendicular to `approach`); finger 2 moves opposite. */
  readonly opening: Vec3;
  /** Finger length (m). */
  readonly fingerLength: number;
  /** Gripper mass including fingers (kg). */
  readonly mass: number;
  /** Finger actuator stiffness (N/m) and force limit (N). */
  readonly kp: number;
  readonly force: number;
}

/** A camera rigidly mounted on a body. */
export interface MjcfCameraSpec {
  /** Embodiment camera name. */
  readonly name: string;
  /** Position in the carrying body's frame. */
  readonly pos: Vec3;
  /** MJCF `xyaxes`: image-right then image-up directions in the body frame; the camera looks along -(x × y). */
  readonly xyaxes: readonly [number, number, number, number, number, number];
  /** Vertical field of view (degrees). */
  readonly fovy: number;
}

/** One arm, mounted on the torso. */
export interface MjcfArmSpec {
  /** Arm side (used in body names). */
  readonly side: 'left' | 'right';
  /** Mount point in the torso frame. */
  readonly mount: Vec3;
  /** Links from shoulder to wrist. */
  readonly links: readonly MjcfLinkSpec[];
  /** The gripper on the last link. */
  readonly gripper: MjcfGripperSpec;
  /** Wrist camera, carried by the last link. */
  readonly camera: MjcfCameraSpec;
}

/** A body joint (lift, waist, head): not part of the policy's layout, held at `home` by its actuator. */
export interface MjcfBodyJointSpec {
  /** MJCF joint name. */
  readonly name: string;
  /** Hinge (rad) or slide (m). */
  readonly type: 'hinge' | 'slide';
  /** Axis in the body frame. */
  readonly axis: Vec3;
  /** Limits. */
  readonly range: readonly [number, number];
  /** Held position. */
  readonly home: number;
  /** Actuator stiffness and force/torque limit. */
  readonly kp: number;
  readonly force: number;
}

/** Geometry and actuation of a two-arm robot on a fixed base, as data. */
export interface MjcfRobotSpec {
  /** MJCF model name. */
  readonly model: string;
  /** Base box: half sizes (m) and mass (kg); it rests on the floor. */
  readonly base: { readonly halfSize: Vec3; readonly mass: number };
  /** Torso above the base: its origin, box half sizes, mass, and its joints (e.g. lift, waist pitch) in order. */
  readonly torso: {
    readonly pos: Vec3;
    readonly halfSize: Vec3;
    readonly mass: number;
    readonly joints: readonly MjcfBodyJointSpec[];
  };
  /** Head on the torso: position, joints (may be none) and its camera. */
  readonly head: {
    readonly pos: Vec3;
    readonly joints: readonly MjcfBodyJointSpec[];
    readonly camera: MjcfCameraSpec;
  };
  /** Left then right arm. */
  readonly arms: readonly [MjcfArmSpec, MjcfArmSpec];
}

/** How an embodiment dim appears in the model. */
export interface MjcfDim {
  /** Embodiment dim name. */
  readonly dim: string;
  /** Joint whose position reports this dim (finger 1 for grippers). */
  readonly joint: string;
  /** Actuator that drives it. */
  readonly actuator: string;
  /** Robot units → joint/actuator units (identity for arm joints, metres per finger for grippers). */
  readonly toSim: LinearMap;
}

/**
 * A MuJoCo model of an embodiment as an XML string (no mesh files, so it loads anywhere, browsers
 * included) plus the map from the embodiment's layout to its joints and actuators. The keyframe
 * `home` holds the embodiment's home pose with matching controls.
 */
export interface MjcfDescription {
  /** Upstream robot_type of the embodiment. */
  readonly robotType: string;
  /** The MJCF document. */
  readonly xml: string;
  /** One entry per embodiment dim, in layout order. */
  readonly dims: readonly MjcfDim[];
  /** Camera names in the model (the embodiment's). */
  readonly cameras: readonly string[];
  /** Name of the keyframe holding the home pose. */
  readonly homeKeyframe: string;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6))));
const v3 = (v: Vec3) => v.map(fmt).join(' ');
const scale3 = (v: Vec3, k: number): Vec3 => [v[0] * k, v[1] * k, v[2] * k];
// Robot geoms collide with the world but not with each other (contype 2 & conaffinity 1 = 0).
const ROBOT_GEOM = 'contype="2" conaffinity="1"';

/**
 * Writes the MJCF of a two-arm robot: floor and light; a fixed base; a torso carrying its joints
 * (lift, waist); a head with its joints and camera; two arms of hinge joints with capsule links,
 * gravity-compensated (the vendors' controllers compensate gravity); two-finger slide grippers coupled
 * by an equality constraint; a position actuator on every joint but the second finger; a `home`
 * keyframe. Arm joint and gripper limits come from the embodiment, so the model cannot drift from it.
 * Throws when a dim of the embodiment has no joint in the spec or the other way round.
 */
export function buildBimanualMjcf(spec: MjcfRobotSpec, e: Embodiment): MjcfDescription {
  const dimByName = new Map(e.dims.map((d, i) => [d.name, { d, i }]));
  const jointOrder: { name: string; home: number }[] = [];
  const actuators: string[] = [];
  const ctrlHome: number[] = [];
  const dims = new Map<string, MjcfDim>();
  const lookup = (name: string) => {
    const x = dimByName.get(name);
    if (!x) throw new Error(`MJCF ${spec.model}: joint "${name}" is not a dim of ${e.robotType}`);
    return x;
  };

  const bodyJoint = (j: MjcfBodyJointSpec, indent: string) => {
    if (!(j.range[0] <= j.home && j.home <= j.range[1])) {
      throw new Error(
        `MJCF ${spec.model}: home ${j.home} of "${j.name}" outside [${j.range[0]}, ${j.range[1]}]`,
      );
    }
    jointOrder.push({ name: j.name, home: j.home });
    actuators.push(
      `<position name="${j.name}" joint="${j.name}" kp="${fmt(j.kp)}" dampratio="1" ctrlrange="${fmt(j.range[0])} ${fmt(j.range[1])}" forcerange="${fmt(-j.force)} ${fmt(j.force)}"/>`,
    );
    ctrlHome.push(j.home);
    return `${indent}<joint name="${j.name}" type="${j.type}" axis="${v3(j.axis)}" range="${fmt(j.range[0])} ${fmt(j.range[1])}" damping="${j.type === 'slide' ? 50 : 2}" armature="0.1"/>\n`;
  };

  const camera = (c: MjcfCameraSpec, indent: string) =>
    `${indent}<camera name="${c.name}" pos="${v3(c.pos)}" xyaxes="${c.xyaxes.map(fmt).join(' ')}" fovy="${fmt(c.fovy)}"/>\n`;

  const arm = (a: MjcfArmSpec, indent: string): { xml: string; equality: string } => {
    let xml = '';
    let close = '';
    let ind = indent;
    a.links.forEach((l, k) => {
      const { d, i } = lookup(l.joint);
      if (d.kind !== 'joint') throw new Error(`MJCF ${spec.model}: "${l.joint}" is a ${d.kind}, not a joint`);
      jointOrder.push({ name: l.joint, home: e.home[i] });
      actuators.push(
        `<position name="${l.joint}" joint="${l.joint}" kp="${fmt(l.kp)}" dampratio="1" ctrlrange="${fmt(d.lower)} ${fmt(d.upper)}" forcerange="${fmt(-l.torque)} ${fmt(l.torque)}"/>`,
      );
      ctrlHome.push(e.home[i]);
      dims.set(d.name, { dim: d.name, joint: l.joint, actuator: l.joint, toSim: { scale: 1, offset: 0 } });
      xml += `${ind}<body name="${a.side}_link${k + 1}" pos="${v3(l.pos)}" gravcomp="1">\n`;
      const inner = ind + '  ';
      xml += `${inner}<joint name="${l.joint}" type="hinge" axis="${v3(l.axis)}" range="${fmt(d.lower)} ${fmt(d.upper)}" damping="1" armature="0.05"/>\n`;
      xml += `${inner}<geom type="capsule" fromto="0 0 0 ${v3(l.tip)}" size="${fmt(l.radius)}" mass="${fmt(l.mass)}" ${ROBOT_GEOM} rgba="0.75 0.75 0.78 1"/>\n`;
      close = `${ind}</body>\n` + close;
      ind = inner;
    });
    const g = a.gripper;
    const { d: gd, i: gi } = lookup(g.dim);
    if (gd.kind !== 'gripper')
      throw new Error(`MJCF ${spec.model}: "${g.dim}" is a ${gd.kind}, not a gripper`);
    const lo = applyMap(g.toFinger, gd.lower);
    const hi = applyMap(g.toFinger, gd.upper);
    for (const [what, v] of [
      ['lower', lo],
      ['upper', hi],
    ] as const) {
      if (!(v >= -1e-9 && v <= g.fingerTravel + 1e-9)) {
        throw new Error(
          `MJCF ${spec.model}: gripper "${g.dim}" ${what} limit maps to finger travel ${v}, outside [0, ${g.fingerTravel}]`,
        );
      }
    }
    const fingerHome = applyMap(g.toFinger, e.home[gi]);
    const f1 = `${g.dim}_finger1`;
    const f2 = `${g.dim}_finger2`;
    const tipAt = scale3(g.approach, g.fingerLength);
    const half = scale3(g.approach, g.fingerLength * 0.5);
    const palmHalf = 0.02;
    xml += camera(a.camera, ind);
    xml += `${ind}<body name="${g.dim}" pos="${v3(g.pos)}" gravcomp="1">\n`;
    const gi1 = ind + '  ';
    xml += `${gi1}<geom type="sphere" size="${palmHalf}" mass="${fmt(g.mass * 0.6)}" ${ROBOT_GEOM} rgba="0.2 0.2 0.22 1"/>\n`;
    for (const [name, sign] of [
      [f1, 1],
      [f2, -1],
    ] as const) {
      const axis = scale3(g.opening, sign);
      xml += `${gi1}<body name="${name}" gravcomp="1">\n`;
      xml += `${gi1}  <joint name="${name}" type="slide" axis="${v3(axis)}" range="0 ${fmt(g.fingerTravel)}" damping="5" armature="0.01"/>\n`;
      xml += `${gi1}  <geom type="capsule" fromto="${v3(half)} ${v3(tipAt)}" size="0.008" mass="${fmt(g.mass * 0.2)}" ${ROBOT_GEOM} friction="1.5 0.02 0.001" rgba="0.15 0.15 0.15 1"/>\n`;
      xml += `${gi1}</body>\n`;
      jointOrder.push({ name, home: fingerHome });
    }
    xml += `${ind}</body>\n`;
    actuators.push(
      `<position name="${g.dim}" joint="${f1}" kp="${fmt(g.kp)}" dampratio="1" ctrlrange="0 ${fmt(g.fingerTravel)}" forcerange="${fmt(-g.force)} ${fmt(g.force)}"/>`,
    );
    ctrlHome.push(fingerHome);
    dims.set(gd.name, { dim: gd.name, joint: f1, actuator: g.dim, toSim: g.toFinger });
    return { xml: xml + close, equality: `<joint joint1="${f2}" joint2="${f1}" polycoef="0 1 0 0 0"/>` };
  };

  const t = spec.torso;
  let world = '';
  world += `    <light name="sun" pos="0 0 3" dir="0 0 -1" directional="true"/>\n`;
  world += `    <geom name="floor" type="plane" size="0 0 0.05" rgba="0.55 0.58 0.6 1"/>\n`;
  world += `    <body name="base" pos="0 0 ${fmt(spec.base.halfSize[2])}">\n`;
  world += `      <geom type="box" size="${v3(spec.base.halfSize)}" mass="${fmt(spec.base.mass)}" ${ROBOT_GEOM} rgba="0.3 0.3 0.32 1"/>\n`;
  // A column from the base to the torso's lowest position, so the lift does not float.
  world += `      <geom type="cylinder" fromto="0 0 ${fmt(spec.base.halfSize[2])} ${v3(t.pos)}" size="0.04" mass="1" ${ROBOT_GEOM} rgba="0.3 0.3 0.32 1"/>\n`;
  world += `      <body name="torso" pos="${v3(t.pos)}" gravcomp="1">\n`;
  for (const j of t.joints) world += bodyJoint(j, '        ');
  world += `        <geom type="box" size="${v3(t.halfSize)}" mass="${fmt(t.mass)}" ${ROBOT_GEOM} rgba="0.85 0.85 0.88 1"/>\n`;
  world += `        <body name="head" pos="${v3(spec.head.pos)}" gravcomp="1">\n`;
  for (const j of spec.head.joints) world += bodyJoint(j, '          ');
  world += `          <geom type="box" size="0.06 0.08 0.06" mass="1" ${ROBOT_GEOM} rgba="0.2 0.2 0.22 1"/>\n`;
  world += camera(spec.head.camera, '          ');
  world += `        </body>\n`;
  const equalities: string[] = [];
  for (const a of spec.arms) {
    world += `        <body name="${a.side}_mount" pos="${v3(a.mount)}">\n`;
    const r = arm(a, '          ');
    world += r.xml;
    equalities.push(r.equality);
    world += `        </body>\n`;
  }
  world += `      </body>\n    </body>\n`;

  for (const d of e.dims)
    if (!dims.has(d.name))
      throw new Error(`MJCF ${spec.model}: dim "${d.name}" of ${e.robotType} has no joint`);
  const cameras = [spec.head.camera.name, ...spec.arms.map((a) => a.camera.name)];
  for (const c of e.cameras) {
    if (!cameras.includes(c.name))
      throw new Error(`MJCF ${spec.model}: camera "${c.name}" of ${e.robotType} is missing`);
  }

  const xml =
    `<mujoco model="${spec.model}">\n` +
    `  <compiler angle="radian" autolimits="true"/>\n` +
    `  <option timestep="0.002" integrator="implicitfast"/>\n` +
    `  <visual><global offwidth="640" offheight="480"/></visual>\n` +
    `  <worldbody>\n${world}  </worldbody>\n` +
    `  <equality>\n${equalities.map((q) => `    ${q}\n`).join('')}  </equality>\n` +
    `  <actuator>\n${actuators.map((a) => `    ${a}\n`).join('')}  </actuator>\n` +
    `  <keyframe>\n    <key name="home" qpos="${jointOrder.map((j) => fmt(j.home)).join(' ')}" ctrl="${ctrlHome.map(fmt).join(' ')}"/>\n  </keyframe>\n` +
    `</mujoco>\n`;

  return Object.freeze({
    robotType: e.robotType,
    xml,
    dims: Object.freeze(e.dims.map((d) => dims.get(d.name)!)),
    cameras: Object.freeze(cameras),
    homeKeyframe: 'home',
  });
}

/**
 * Insert MJCF elements (objects, a table) at the end of a description's `<worldbody>`. Appended bodies
 * come after the robot in qpos order, so the `home` keyframe (the robot's joints) still applies; MuJoCo
 * fills the new objects' part of a short keyframe with their defaults.
 */
export function insertIntoWorldbody(xml: string, fragment: string): string {
  const at = xml.lastIndexOf('</worldbody>');
  if (at < 0) throw new Error('insertIntoWorldbody: the document has no </worldbody>');
  return xml.slice(0, at) + fragment + '\n' + xml.slice(at);
}
