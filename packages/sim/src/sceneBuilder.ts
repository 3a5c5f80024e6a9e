import { insertIntoWorldbody } from '@vla/robot-core';
import { gripSitePos, type SimRobotSpec } from './simRobots.js';

/** A loose object on the table or belt: a body with a free joint. */
export interface SceneObject {
  /** Body name; its joint is `${name}_free` and its geom `${name}_geom`. */
  readonly name: string;
  readonly shape: 'box' | 'cylinder';
  /** Half extents (box) or [radius, half height] (cylinder), metres. */
  readonly size: readonly number[];
  readonly rgba: readonly [number, number, number, number];
  /** Initial centre (world, metres) and rotation about z (rad). */
  readonly pos: readonly [number, number, number];
  readonly yaw: number;
  readonly mass: number;
}

/** An open box on the table: floor plus four walls, static. */
export interface SceneBin {
  readonly name: string;
  /** Centre of the floor's top surface (world). */
  readonly pos: readonly [number, number, number];
  /** Inner half extents in x and y (m). */
  readonly half: readonly [number, number];
  readonly wallHeight: number;
  readonly rgba: readonly [number, number, number, number];
}

/** A belt: a static slab whose top surface drives resting objects along `direction` (see `ConveyorBelt`). */
export interface SceneBelt {
  /** Centre of the slab (world) and half extents. */
  readonly pos: readonly [number, number, number];
  readonly half: readonly [number, number, number];
}

/** Everything a task puts in front of the robot. */
export interface SceneLayout {
  /** Table top centre in x/y and half extents in x/y (its height comes from the robot). */
  readonly table: { readonly center: readonly [number, number]; readonly half: readonly [number, number] };
  readonly objects: readonly SceneObject[];
  readonly bins: readonly SceneBin[];
  readonly belt?: SceneBelt;
}

/** Options of {@link buildSceneXml}. */
export interface SceneOptions {
  /** Physics timestep (s); the robot MJCF's is replaced. */
  readonly timestep: number;
}

const n = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toFixed(6))));
const v = (a: readonly number[]) => a.map(n).join(' ');

// Contact parameters tuned so a squeezed object stays in the fingers: high sliding friction, torsional
// friction (condim 4) against spinning out, and a stiff, slightly soft contact.
const OBJECT_CONTACT = 'condim="4" friction="1.2 0.02 0.001" solref="0.01 1" solimp="0.95 0.99 0.001"';

/**
 * MJCF of a robot at a table with a task's objects, bins and belt, plus a grip site between each
 * gripper's finger tips (`left_grip`, `right_grip`, used by inverse kinematics). The robot faces +x;
 * the table top is at the robot's `tableHeight`.
 */
export function buildSceneXml(robot: SimRobotSpec, layout: SceneLayout, opts: SceneOptions): string {
  let xml = robot.mjcf.xml;
  if (!/timestep="[^"]*"/.test(xml)) throw new Error(`sim: ${robot.name} MJCF has no <option timestep>`);
  // Elliptic friction cones with a high impedance ratio: MuJoCo's soft friction otherwise lets a
  // held object creep, and a bar gripped near one end pivots out of the fingers within a second.
  xml = xml.replace(/timestep="[^"]*"/, `timestep="${opts.timestep}" cone="elliptic" impratio="10"`);
  for (const side of ['left', 'right'] as const) {
    const body = robot.arms[side === 'left' ? 0 : 1].gripperBody;
    const re = new RegExp(`(<body name="${body}"[^>]*>\\n)`);
    if (!re.test(xml)) throw new Error(`sim: ${robot.name} MJCF has no gripper body "${body}"`);
    xml = xml.replace(
      re,
      `$1<site name="${side}_grip" pos="${v(gripSitePos(robot.spec, side))}" size="0.006"/>\n`,
    );
  }
  const h = robot.tableHeight;
  const t = layout.table;
  let w = '';
  w += `    <body name="table" pos="${v([t.center[0], t.center[1], h / 2])}">\n`;
  w += `      <geom name="table_top" type="box" size="${v([t.half[0], t.half[1], h / 2])}" rgba="0.62 0.48 0.34 1" friction="1 0.01 0.001"/>\n`;
  w += `    </body>\n`;
  if (layout.belt) {
    const b = layout.belt;
    w += `    <body name="belt" pos="${v(b.pos)}">\n`;
    w += `      <geom name="belt_surface" type="box" size="${v(b.half)}" rgba="0.12 0.12 0.13 1" priority="1" friction="0.05 0.005 0.0001"/>\n`;
    w += `    </body>\n`;
  }
  for (const bin of layout.bins) {
    const [hx, hy] = bin.half;
    const th = 0.005;
    const hw = bin.wallHeight / 2;
    const walls: [string, number[], number[]][] = [
      ['floor', [0, 0, -th], [hx + 2 * th, hy + 2 * th, th]],
      ['wall_px', [hx + th, 0, hw], [th, hy + 2 * th, hw]],
      ['wall_nx', [-hx - th, 0, hw], [th, hy + 2 * th, hw]],
      ['wall_py', [0, hy + th, hw], [hx, th, hw]],
      ['wall_ny', [0, -hy - th, hw], [hx, th, hw]],
    ];
    w += `    <body name="bin_${bin.name}" pos="${v(bin.pos)}">\n`;
    for (const [part, p, s] of walls)
      w += `      <geom name="bin_${bin.name}_${part}" type="box" pos="${v(p)}" size="${v(s)}" rgba="${v(bin.rgba)}"/>\n`;
    w += `    </body>\n`;
  }
  for (const o of layout.objects) {
    const q = [Math.cos(o.yaw / 2), 0, 0, Math.sin(o.yaw / 2)];
    w += `    <body name="${o.name}" pos="${v(o.pos)}" quat="${v(q)}">\n`;
    w += `      <freejoint name="${o.name}_free"/>\n`;
    w += `      <geom name="${o.name}_geom" type="${o.shape}" size="${v(o.size)}" mass="${n(o.mass)}" rgba="${v(o.rgba)}" ${OBJECT_CONTACT}/>\n`;
    w += `    </body>\n`;
  }
  return insertIntoWorldbody(xml, w);
}
