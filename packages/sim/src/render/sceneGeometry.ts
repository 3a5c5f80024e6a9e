// What the renderer draws, read once from a MuJoCo model: one vertex/index buffer holding a unit
// mesh per primitive shape plus every mesh asset, and the list of visible geoms grouped by shape so
// each shape is one instanced draw. Per-geom sizes become a per-instance scale (see renderShaders.ts).
import type { MjModel } from '@mujoco/mujoco';

/** Floats per vertex: position (3), normal (3), capsule extension along z (1), padding (1). */
export const VERTEX_FLOATS = 8;

// mjtGeom values (stable across MuJoCo versions).
const PLANE = 0;
const SPHERE = 2;
const CAPSULE = 3;
const ELLIPSOID = 4;
const CYLINDER = 5;
const BOX = 6;
const MESH = 7;

/** Half-size drawn for an infinite MuJoCo plane (size 0): far past the horizon of any scene camera. */
export const INFINITE_PLANE_HALF = 1000;

// Tessellation of round shapes: a 20-gon is within 1.3% of its circle (under a pixel for a round
// object 70 px across), and triangle count is what SwiftShader pays for, in the shadow pass above all.
const SEGMENTS = 20;
const SPHERE_RINGS = 12; // even, so that a capsule's equator is a ring
const SHADOW_SEGMENTS = 10;
const SHADOW_RINGS = 6;

/** MuJoCo's default geom rgba: a geom with a material and this rgba takes the material's colour. */
const DEFAULT_RGBA = [0.5, 0.5, 0.5, 1];

/** A range of the shared index buffer: one shape. */
export interface ShapeRange {
  readonly firstIndex: number;
  readonly indexCount: number;
}

/** One instanced draw: geoms `[firstInstance, firstInstance + count)` of {@link SceneGeometry.geoms} share a shape. */
export interface ShapeDraw extends ShapeRange {
  readonly firstInstance: number;
  readonly instanceCount: number;
  /**
   * What the shadow pass draws instead: a coarser tessellation (shadow edges are soft anyway), or null
   * for planes, which receive shadows but cannot cast one onto anything above them.
   */
  readonly shadow: ShapeRange | null;
}

/** A visible geom and how its unit shape is sized. */
export interface GeomInstance {
  readonly geomId: number;
  /** Per-axis scale of the unit shape. */
  readonly scale: readonly [number, number, number];
  /** Capsules: half-length added along ±z to the two hemispheres. */
  readonly extend: number;
  /** Planes get a faint checker. */
  readonly checker: boolean;
}

/** Vertices, indices and instanced draws of a model's visible geoms. */
export interface SceneGeometry {
  readonly vertices: Float32Array;
  readonly indices: Uint32Array;
  /** Visible geoms in instance order (grouped by shape). */
  readonly geoms: readonly GeomInstance[];
  readonly draws: readonly ShapeDraw[];
}

/** Options that choose which geoms are drawn. */
export interface GeomFilter {
  /** Geom groups to draw (MuJoCo's viewer default: 0, 1, 2). Geoms with alpha 0 are never drawn. */
  readonly geomGroups?: readonly number[];
}

class MeshBuilder {
  readonly v: number[] = [];
  readonly i: number[] = [];
  private vcount = 0;

  begin(): number {
    return this.i.length;
  }
  vertex(p: readonly number[], n: readonly number[], ext = 0): number {
    this.v.push(p[0], p[1], p[2], n[0], n[1], n[2], ext, 0);
    return this.vcount++;
  }
  tri(a: number, b: number, c: number): void {
    this.i.push(a, b, c);
  }
  quad(a: number, b: number, c: number, d: number): void {
    this.tri(a, b, c);
    this.tri(a, c, d);
  }
  end(first: number): ShapeRange {
    return { firstIndex: first, indexCount: this.i.length - first };
  }
}

// All triangles are counter-clockwise seen from outside (front faces), so back faces can be culled.

function plane(b: MeshBuilder): ShapeRange {
  const f = b.begin();
  const n = [0, 0, 1];
  const q = [
    b.vertex([-1, -1, 0], n),
    b.vertex([1, -1, 0], n),
    b.vertex([1, 1, 0], n),
    b.vertex([-1, 1, 0], n),
  ];
  b.quad(q[0], q[1], q[2], q[3]);
  return b.end(f);
}

function box(b: MeshBuilder): ShapeRange {
  const f = b.begin();
  for (let axis = 0; axis < 3; axis++) {
    for (const s of [1, -1]) {
      const n = [0, 0, 0];
      n[axis] = s;
      // Two tangent axes ordered so that (u × v) points along n.
      const u = [0, 0, 0];
      const w = [0, 0, 0];
      u[(axis + 1) % 3] = 1;
      w[(axis + 2) % 3] = s;
      const corner = (a: number, c: number) => [0, 1, 2].map((k) => n[k] + a * u[k] + c * w[k]);
      const q = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)].map((p) => b.vertex(p, n));
      b.quad(q[0], q[1], q[2], q[3]);
    }
  }
  return b.end(f);
}

/**
 * A latitude/longitude sphere of radius 1. With `capsule`, the northern half carries ext = +1 and the
 * southern half ext = -1 (the equator is doubled), so the vertex shader can pull the hemispheres apart.
 */
function sphere(b: MeshBuilder, rings: number, segments: number, capsule: boolean): ShapeRange {
  const f = b.begin();
  const rows: number[][] = [];
  const ringList: { theta: number; ext: number }[] = [];
  for (let r = 0; r <= rings; r++) {
    const theta = (Math.PI * r) / rings; // from +z (0) to -z (π)
    if (capsule && 2 * r === rings) {
      ringList.push({ theta, ext: 1 }, { theta, ext: -1 });
    } else {
      ringList.push({ theta, ext: capsule ? (2 * r < rings ? 1 : -1) : 0 });
    }
  }
  for (const { theta, ext } of ringList) {
    const row: number[] = [];
    for (let s = 0; s <= segments; s++) {
      const phi = (2 * Math.PI * s) / segments;
      const p = [Math.sin(theta) * Math.cos(phi), Math.sin(theta) * Math.sin(phi), Math.cos(theta)];
      row.push(b.vertex(p, p, ext));
    }
    rows.push(row);
  }
  for (let r = 0; r + 1 < rows.length; r++) {
    for (let s = 0; s < segments; s++) {
      const a = rows[r][s];
      const c = rows[r + 1][s];
      const d = rows[r + 1][s + 1];
      const e = rows[r][s + 1];
      // Going from north to south and east: (a, c, d) is counter-clockwise seen from outside.
      b.quad(a, c, d, e);
    }
  }
  return b.end(f);
}

function cylinder(b: MeshBuilder, segments: number): ShapeRange {
  const f = b.begin();
  const top: number[] = [];
  const bottom: number[] = [];
  for (let s = 0; s <= segments; s++) {
    const phi = (2 * Math.PI * s) / segments;
    const n = [Math.cos(phi), Math.sin(phi), 0];
    top.push(b.vertex([n[0], n[1], 1], n));
    bottom.push(b.vertex([n[0], n[1], -1], n));
  }
  for (let s = 0; s < segments; s++) b.quad(bottom[s], bottom[s + 1], top[s + 1], top[s]);
  for (const z of [1, -1]) {
    const n = [0, 0, z];
    const centre = b.vertex([0, 0, z], n);
    const rim: number[] = [];
    for (let s = 0; s <= segments; s++) {
      const phi = (2 * Math.PI * s) / segments;
      rim.push(b.vertex([Math.cos(phi), Math.sin(phi), z], n));
    }
    for (let s = 0; s < segments; s++) {
      if (z > 0) b.tri(centre, rim[s], rim[s + 1]);
      else b.tri(centre, rim[s + 1], rim[s]);
    }
  }
  return b.end(f);
}

/** A mesh asset, flat-shaded: every face gets its own three vertices and its face normal. */
function meshAsset(b: MeshBuilder, m: MjModel, meshId: number): ShapeRange {
  const f = b.begin();
  const vert = m.mesh_vert as Float32Array;
  const face = m.mesh_face as Int32Array;
  const vadr = (m.mesh_vertadr as Int32Array)[meshId];
  const fadr = (m.mesh_faceadr as Int32Array)[meshId];
  const nface = (m.mesh_facenum as Int32Array)[meshId];
  for (let k = 0; k < nface; k++) {
    const p = [0, 1, 2].map((j) => {
      const v = vadr + face[3 * (fadr + k) + j];
      return [vert[3 * v], vert[3 * v + 1], vert[3 * v + 2]];
    });
    const e1 = [0, 1, 2].map((c) => p[1][c] - p[0][c]);
    const e2 = [0, 1, 2].map((c) => p[2][c] - p[0][c]);
    const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const len = Math.hypot(n[0], n[1], n[2]) || 1;
    const nn = n.map((x) => x / len);
    b.tri(b.vertex(p[0], nn), b.vertex(p[1], nn), b.vertex(p[2], nn));
  }
  return b.end(f);
}

/** The rgba MuJoCo draws a geom with: its material's unless the geom sets its own. */
export function geomRgba(m: MjModel, g: number): [number, number, number, number] {
  const rgba = m.geom_rgba as Float32Array;
  const mat = (m.geom_matid as Int32Array)[g];
  const own = [rgba[4 * g], rgba[4 * g + 1], rgba[4 * g + 2], rgba[4 * g + 3]] as [
    number,
    number,
    number,
    number,
  ];
  if (mat < 0) return own;
  const isDefault = own.every((x, k) => Math.abs(x - DEFAULT_RGBA[k]) < 1e-6);
  if (!isDefault) return own;
  const mr = m.mat_rgba as Float32Array;
  return [mr[4 * mat], mr[4 * mat + 1], mr[4 * mat + 2], mr[4 * mat + 3]];
}

/**
 * Whether a geom is drawn: in one of the groups and not fully transparent (the rules `mj_ray` uses
 * with the same group mask, so a ray-cast reference sees the same geoms).
 */
export function isGeomVisible(m: MjModel, g: number, groups: readonly number[]): boolean {
  const type = (m.geom_type as Int32Array)[g];
  if (![PLANE, SPHERE, CAPSULE, ELLIPSOID, CYLINDER, BOX, MESH].includes(type)) return false;
  const group = Math.min(5, Math.max(0, (m.geom_group as Int32Array)[g]));
  if (!groups.includes(group)) return false;
  // mj_ray skips a geom whose own alpha is 0 (no material) or whose material's alpha is 0.
  const mat = (m.geom_matid as Int32Array)[g];
  const alpha =
    mat >= 0 ? (m.mat_rgba as Float32Array)[4 * mat + 3] : (m.geom_rgba as Float32Array)[4 * g + 3];
  return alpha > 0;
}

/** Builds the unit shapes, the mesh assets in use and the instanced draws for a model. */
export function buildSceneGeometry(m: MjModel, filter: GeomFilter = {}): SceneGeometry {
  const groups = filter.geomGroups ?? [0, 1, 2];
  const b = new MeshBuilder();
  const shapes = new Map<string, { range: ShapeRange; shadow: ShapeRange | null }>();
  // A shape's ranges, made once; `shadow` makes its shadow-pass copy (default: the shape itself).
  const shape = (key: string, make: () => ShapeRange, shadow?: () => ShapeRange | null): void => {
    if (shapes.has(key)) return;
    const range = make();
    shapes.set(key, { range, shadow: shadow ? shadow() : range });
  };
  const type = m.geom_type as Int32Array;
  const size = m.geom_size as Float64Array;
  const dataid = m.geom_dataid as Int32Array;
  const byShape = new Map<string, GeomInstance[]>();
  for (let g = 0; g < m.ngeom; g++) {
    if (!isGeomVisible(m, g, groups)) continue;
    const s = [size[3 * g], size[3 * g + 1], size[3 * g + 2]];
    let key: string;
    let inst: GeomInstance;
    switch (type[g]) {
      case PLANE: {
        key = 'plane';
        shape(
          key,
          () => plane(b),
          () => null,
        );
        const half = (x: number) => (x > 0 ? x : INFINITE_PLANE_HALF);
        inst = { geomId: g, scale: [half(s[0]), half(s[1]), 1], extend: 0, checker: true };
        break;
      }
      case BOX:
        key = 'box';
        shape(key, () => box(b));
        inst = { geomId: g, scale: [s[0], s[1], s[2]], extend: 0, checker: false };
        break;
      case SPHERE:
      case ELLIPSOID:
        key = 'sphere';
        shape(
          key,
          () => sphere(b, SPHERE_RINGS, SEGMENTS, false),
          () => sphere(b, SHADOW_RINGS, SHADOW_SEGMENTS, false),
        );
        inst = {
          geomId: g,
          scale: type[g] === SPHERE ? [s[0], s[0], s[0]] : [s[0], s[1], s[2]],
          extend: 0,
          checker: false,
        };
        break;
      case CAPSULE:
        key = 'capsule';
        shape(
          key,
          () => sphere(b, SPHERE_RINGS, SEGMENTS, true),
          () => sphere(b, SHADOW_RINGS, SHADOW_SEGMENTS, true),
        );
        inst = { geomId: g, scale: [s[0], s[0], s[0]], extend: s[1], checker: false };
        break;
      case CYLINDER:
        key = 'cylinder';
        shape(
          key,
          () => cylinder(b, SEGMENTS),
          () => cylinder(b, SHADOW_SEGMENTS),
        );
        inst = { geomId: g, scale: [s[0], s[0], s[1]], extend: 0, checker: false };
        break;
      default: {
        const meshId = dataid[g];
        key = `mesh${meshId}`;
        shape(key, () => meshAsset(b, m, meshId));
        inst = { geomId: g, scale: [1, 1, 1], extend: 0, checker: false };
      }
    }
    let list = byShape.get(key);
    if (!list) byShape.set(key, (list = []));
    list.push(inst);
  }
  const geoms: GeomInstance[] = [];
  const draws: ShapeDraw[] = [];
  for (const [key, list] of byShape) {
    const { range, shadow } = shapes.get(key)!;
    draws.push({ ...range, firstInstance: geoms.length, instanceCount: list.length, shadow });
    geoms.push(...list);
  }
  return { vertices: new Float32Array(b.v), indices: new Uint32Array(b.i), geoms, draws };
}
