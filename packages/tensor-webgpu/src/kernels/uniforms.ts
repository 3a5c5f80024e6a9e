// Shapes, strides and scalars travel in one uniform block per dispatch, so a compiled pipeline
// serves every shape (the ORT/tfjs "Program" idea). Arrays are packed as array<vec4<u32>, N> to meet
// uniform alignment; `uniformArrayAccessor` generates the WGSL getter.

/** A scalar uniform field. */
export interface ScalarField {
  name: string;
  type: 'u32' | 'i32' | 'f32';
  value: number;
}

/** A u32 array uniform (shapes, strides), read in WGSL with `<name>_at(i)`. */
export interface ArrayField {
  name: string;
  /** Capacity in elements (fixed per kernel variant, e.g. the max rank). */
  length: number;
  values: readonly number[];
}

/** A generated uniform struct and its bytes. */
export interface UniformBlock {
  /** WGSL: struct `Uniforms`, the `u` binding declaration and array accessors. */
  wgsl: (binding: number) => string;
  data: Uint32Array;
}

/**
 * Packs scalars then arrays into a uniform block. The WGSL struct layout matches: scalars are 4
 * bytes each, padded to 16 before the first array; each array takes ceil(length/4) vec4s.
 */
export function uniformBlock(scalars: readonly ScalarField[], arrays: readonly ArrayField[] = []): UniformBlock {
  const scalarWords = arrays.length ? Math.ceil(scalars.length / 4) * 4 : Math.max(4, Math.ceil(scalars.length / 4) * 4);
  let words = scalarWords;
  for (const a of arrays) words += Math.ceil(a.length / 4) * 4;
  const data = new Uint32Array(Math.max(4, words));
  const f32 = new Float32Array(data.buffer);
  const i32 = new Int32Array(data.buffer);
  scalars.forEach((s, i) => {
    if (s.type === 'f32') f32[i] = s.value;
    else if (s.type === 'i32') i32[i] = s.value;
    else data[i] = s.value >>> 0;
  });
  let at = scalarWords;
  for (const a of arrays) {
    if (a.values.length > a.length) throw new Error(`uniform ${a.name}: ${a.values.length} values exceed capacity ${a.length}`);
    a.values.forEach((v, i) => (data[at + i] = v >>> 0));
    at += Math.ceil(a.length / 4) * 4;
  }
  const wgsl = (binding: number) => {
    const fields = scalars.map((s) => `  ${s.name}: ${s.type},`);
    for (let i = scalars.length; i < scalarWords; i++) fields.push(`  _pad${i}: u32,`);
    for (const a of arrays) fields.push(`  ${a.name}: array<vec4<u32>, ${Math.ceil(a.length / 4)}>,`);
    const accessors = arrays
      .map((a) => `fn ${a.name}_at(i: u32) -> u32 { return u.${a.name}[i / 4u][i % 4u]; }`)
      .join('\n');
    return `struct Uniforms {\n${fields.join('\n')}\n};\n@group(0) @binding(${binding}) var<uniform> u: Uniforms;\n${accessors}\n`;
  };
  return { wgsl, data };
}

/**
 * WGSL for the linear invocation index of a launch that {@link Engine.grid} may have split over x
 * and y. Declares `fn linearIndex(wid, lid, nwg) -> u32` for a workgroup of `size` threads.
 */
export function linearIndexWgsl(size: number): string {
  return `fn linearIndex(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${size}u + lid.x;
}`;
}
