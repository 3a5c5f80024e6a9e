// WGSL of the scene renderer: one vertex stage shared by the shadow, colour and geom-id passes, and
// the compute kernel that turns a rendered frame into a policy tensor.
import type { Kernel } from '@vla/tensor-webgpu';

/** Bytes of one instance record (`Inst` below). */
export const INSTANCE_BYTES = 96;
/** Bytes of the per-view uniform block (`View` below). */
export const VIEW_BYTES = 192;

/**
 * Render shaders. A vertex of a unit shape is placed as `R · (p ⊙ scale + ext · (0, 0, halfLength)) + pos`;
 * its normal as `R · normalize(n / scale)` (the inverse-transpose of a diagonal scale). The camera
 * projection is reversed-Z with an infinite far plane (depth = near / distance), so that an infinite
 * ground plane and a close gripper both keep full depth precision.
 */
export const SCENE_WGSL = /* wgsl */ `
struct View {
  viewProj: mat4x4f,
  lightViewProj: mat4x4f,
  eye: vec4f,
  lightDir: vec4f,     // xyz: unit vector towards the key light; w: 1 when shadows are on
  shading: vec4f,      // ambient, key light, head light, checker cell (m)
  shadow: vec4f,       // normal offset (m), depth bias, checker contrast, unused
}

struct Inst {
  r0: vec4f,           // rows of the geom's rotation; w: its position
  r1: vec4f,
  r2: vec4f,
  scale: vec4f,        // xyz: per-axis scale of the unit shape; w: capsule half-length
  color: vec4f,        // rgb; a: 1 for a checkered plane
  info: vec4u,         // x: geom id
}

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> insts: array<Inst>;
@group(1) @binding(0) var shadowMap: texture_depth_2d;
@group(1) @binding(1) var shadowSampler: sampler_comparison;

struct VIn {
  @location(0) pos: vec3f,
  @location(1) normal: vec3f,
  @location(2) ext: f32,
}

struct VOut {
  @builtin(position) clip: vec4f,
  @location(0) world: vec3f,
  @location(1) normal: vec3f,
  @location(2) local: vec2f,
  @location(3) @interpolate(flat) inst: u32,
}

fn toWorld(inst: Inst, l: vec3f) -> vec3f {
  return vec3f(dot(inst.r0.xyz, l) + inst.r0.w, dot(inst.r1.xyz, l) + inst.r1.w, dot(inst.r2.xyz, l) + inst.r2.w);
}

fn placed(inst: Inst, v: VIn) -> vec3f {
  return toWorld(inst, v.pos * inst.scale.xyz + vec3f(0.0, 0.0, v.ext * inst.scale.w));
}

@vertex fn vsScene(v: VIn, @builtin(instance_index) ii: u32) -> VOut {
  let inst = insts[ii];
  let w = placed(inst, v);
  let n = normalize(v.normal / inst.scale.xyz);
  var o: VOut;
  o.clip = view.viewProj * vec4f(w, 1.0);
  o.world = w;
  o.normal = vec3f(dot(inst.r0.xyz, n), dot(inst.r1.xyz, n), dot(inst.r2.xyz, n));
  o.local = v.pos.xy * inst.scale.xy;
  o.inst = ii;
  return o;
}

@vertex fn vsShadow(v: VIn, @builtin(instance_index) ii: u32) -> @builtin(position) vec4f {
  return view.lightViewProj * vec4f(placed(insts[ii], v), 1.0);
}

fn shadowFactor(world: vec3f, n: vec3f) -> f32 {
  if (view.lightDir.w == 0.0) {
    return 1.0;
  }
  // Offsetting along the normal keeps lit surfaces from shadowing themselves (acne).
  let p = view.lightViewProj * vec4f(world + n * view.shadow.x, 1.0);
  let uv = vec2f(p.x * 0.5 + 0.5, 0.5 - p.y * 0.5);
  if (any(uv < vec2f(0.0)) || any(uv > vec2f(1.0)) || p.z > 1.0) {
    return 1.0; // outside the shadow box: lit
  }
  // Linear filtering of a comparison sampler gives 2x2 percentage-closer filtering.
  return textureSampleCompareLevel(shadowMap, shadowSampler, uv, p.z - view.shadow.y);
}

@fragment fn fsColor(f: VOut) -> @location(0) vec4f {
  let inst = insts[f.inst];
  // Faint checker on planes, faded out where cells get smaller than a pixel (no moire at the horizon).
  let cell = view.shading.w;
  let c = floor(f.local / cell);
  let parity = (c.x + c.y) - 2.0 * floor((c.x + c.y) * 0.5);
  let footprint = fwidth(f.local) / cell;
  let fade = clamp(1.0 - 2.0 * max(footprint.x, footprint.y), 0.0, 1.0);
  let checker = 1.0 + inst.color.a * fade * (2.0 * parity - 1.0) * view.shadow.z;
  let n = normalize(f.normal);
  let key = max(dot(n, view.lightDir.xyz), 0.0) * shadowFactor(f.world, n);
  let head = max(dot(n, normalize(view.eye.xyz - f.world)), 0.0);
  let light = view.shading.x + view.shading.y * key + view.shading.z * head;
  return vec4f(min(inst.color.rgb * checker * light, vec3f(1.0)), 1.0);
}

@fragment fn fsGeomId(f: VOut) -> @location(0) u32 {
  return insts[f.inst].info.x + 1u;
}
`;

/**
 * Compute kernel (run by the tensor engine): packed RGBA8 rows of a rendered frame → an f32 `[1, 3, H, W]`
 * tensor, `value = byte / 255 · scale + offset`.
 */
export const FRAME_TO_TENSOR: Kernel = {
  key: 'sim.frameToTensor',
  code: () => /* wgsl */ `
struct U { width: u32, height: u32, rowWords: u32, scale: f32, offset: f32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n = u.width * u.height;
  let i = g.x;
  if (i >= n) {
    return;
  }
  let rgba = unpack4x8unorm(src[(i / u.width) * u.rowWords + i % u.width]);
  dst[i] = rgba.r * u.scale + u.offset;
  dst[n + i] = rgba.g * u.scale + u.offset;
  dst[2u * n + i] = rgba.b * u.scale + u.offset;
}
`,
};
