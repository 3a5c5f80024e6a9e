// One declaration per WGSL kernel family: its compile-time parameters, its storage bindings, its
// uniform schema and its body. The binding declarations, the bind order, the uniform struct (with
// its packing) and the pipeline cache key are all generated from it, so none of them is written
// twice (the ORT/tfjs "Program" idea). The uniform schema uses the same field types as the CPU
// engine's kernel declarations (src/cpu/program.ts).
import type { DeviceBuffer } from '../runtime/backend.js';
import type { Dispatch, Engine, Kernel } from '../runtime/engine.js';
import { linearIndexWgsl, uniformBlock, type ArrayField, type ScalarField } from './uniforms.js';

/** A uniform field: a scalar, or a fixed-capacity u32 array (shapes, strides) read with `<name>_at(i)`. */
export type UniformType = 'u32' | 'i32' | 'f32' | readonly ['u32', number];

/** The uniform block of a program: field name → type, in declaration order (scalars are packed first). */
export type UniformSchema = Record<string, UniformType>;

/** A storage binding: access and WGSL element type (`f32`, `u32`, `vec4<f32>`, `f16`, ...). */
export interface BindingSpec {
  access: 'read' | 'read_write';
  type: string;
}

/** The storage bindings of a program: name → spec; the declaration order is the bind order. */
export type BindingSchema = Record<string, BindingSpec>;

/** What a body may use besides its parameters. */
export interface ProgramContext {
  /** Threads per workgroup (1-D programs). */
  workgroupSize: number;
}

/** The declaration of a WGSL program family. */
export interface ProgramSpec<P, B extends BindingSchema, U extends UniformSchema> {
  /** Family name: the first part of every cache key. */
  name: string;
  /** Storage bindings (they may depend on the parameters, e.g. an optional mask). */
  bindings: (p: P) => B;
  /**
   * Uniform fields, or a function of the parameters when the fields depend on them (e.g. one offset
   * per tensor operand, one stride list per operand only in strided variants).
   */
  uniforms: U | ((p: P) => U);
  /** Threads per workgroup; `linearIndex(wid, lid, nwg)` is declared for it. */
  workgroupSize: (p: P) => number;
  /** The rest of the WGSL: helper functions and `main` (declarations and `u` come generated). */
  body: (p: P, ctx: ProgramContext) => string;
  /**
   * WGSL extensions to enable besides `f16`, which an f16 binding enables by itself (e.g.
   * `['subgroups']` for a variant that calls subgroupAdd).
   */
  enables?: (p: P) => readonly string[];
}

/** A buffer bound to a binding, optionally a byte range of it. */
export type BoundBuffer = DeviceBuffer | { buffer: DeviceBuffer; offset?: number; size?: number };

/** The values of a uniform schema (a schema built at run time takes numbers and arrays by name). */
export type UniformValues<U extends UniformSchema> = {
  [K in keyof U]: U[K] extends readonly ['u32', number]
    ? readonly number[]
    : U[K] extends string
      ? number
      : number | readonly number[];
};

/** A declared program: makes kernels and dispatches from parameters, buffers and uniform values. */
export interface Program<P, B extends BindingSchema, U extends UniformSchema> {
  readonly spec: ProgramSpec<P, B, U>;
  /** The cache key of a parameter set: the family name and every parameter, in a stable order. */
  key(p: P): string;
  /** The compiled-program description for `p`. */
  kernel(p: P): Kernel;
  /** The full WGSL text for `p` (for tests and debugging). */
  wgsl(p: P): string;
  /** Packs uniform values in the schema's layout (`p` is needed when the schema depends on it). */
  uniformData(values: UniformValues<U>, p?: P): Uint32Array;
  /** Records a dispatch of `p` with its buffers (by binding name) and uniform values. */
  dispatch(
    engine: Engine,
    p: P,
    call: {
      label: string;
      buffers: { [K in keyof B]: BoundBuffer };
      uniforms: UniformValues<U>;
      workgroups: Dispatch['workgroups'];
    },
  ): void;
}

function isRange(b: BoundBuffer): b is { buffer: DeviceBuffer; offset?: number; size?: number } {
  return typeof b === 'object' && b !== null && 'buffer' in b;
}

function stableKey(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${k}=${stableKey((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

function fields<U extends UniformSchema>(
  schema: U,
  values?: UniformValues<U>,
): { scalars: ScalarField[]; arrays: ArrayField[] } {
  const scalars: ScalarField[] = [];
  const arrays: ArrayField[] = [];
  for (const [name, type] of Object.entries(schema)) {
    const v = values?.[name as keyof U];
    if (typeof type === 'string') scalars.push({ name, type, value: (v as number | undefined) ?? 0 });
    else arrays.push({ name, length: type[1], values: (v as readonly number[] | undefined) ?? [] });
  }
  return { scalars, arrays };
}

/** Declares a WGSL program family (see {@link ProgramSpec}). */
export function wgslProgram<P, B extends BindingSchema, U extends UniformSchema>(
  spec: ProgramSpec<P, B, U>,
): Program<P, B, U> {
  const key = (p: P) => `${spec.name}:${stableKey(p)}`;
  const schemaOf = (p: P | undefined): U => {
    if (typeof spec.uniforms !== 'function') return spec.uniforms;
    if (p === undefined)
      throw new Error(`program ${spec.name}: its uniform schema depends on the parameters; pass them`);
    return spec.uniforms(p);
  };
  const wgsl = (p: P) => {
    const bindings = Object.entries(spec.bindings(p));
    const decls = bindings.map(
      ([name, b], i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${name}: array<${b.type}>;`,
    );
    const { scalars, arrays } = fields(schemaOf(p));
    const hasUniforms = scalars.length + arrays.length > 0;
    const half = bindings.some(([, b]) => /\bf16\b/.test(b.type));
    const workgroupSize = spec.workgroupSize(p);
    const enables = new Set([...(half ? ['f16'] : []), ...(spec.enables?.(p) ?? [])]);
    return [
      ...[...enables].map((e) => `enable ${e};`),
      ...decls,
      hasUniforms ? uniformBlock(scalars, arrays).wgsl(bindings.length) : '',
      linearIndexWgsl(workgroupSize),
      spec.body(p, { workgroupSize }),
    ]
      .filter(Boolean)
      .join('\n');
  };
  const uniformData = (values: UniformValues<U>, p?: P) => {
    const { scalars, arrays } = fields(schemaOf(p), values);
    return uniformBlock(scalars, arrays).data;
  };
  return {
    spec,
    key,
    wgsl,
    kernel: (p) => ({ key: key(p), code: () => wgsl(p) }),
    uniformData,
    dispatch(engine, p, call) {
      const storage = Object.entries(spec.bindings(p)).map(([name, b]) => {
        const bound: BoundBuffer | undefined = call.buffers[name as keyof B];
        if (!bound) throw new Error(`${call.label}: program ${spec.name} needs a buffer for binding ${name}`);
        const ref = isRange(bound) ? bound : { buffer: bound };
        return { buffer: ref.buffer, offset: ref.offset, size: ref.size, readOnly: b.access === 'read' };
      });
      const hasUniforms = Object.keys(schemaOf(p)).length > 0;
      engine.dispatch({
        kernel: { key: key(p), code: () => wgsl(p) },
        label: call.label,
        storage,
        ...(hasUniforms ? { uniforms: uniformData(call.uniforms, p) } : {}),
        workgroups: call.workgroups,
      });
    },
  };
}
