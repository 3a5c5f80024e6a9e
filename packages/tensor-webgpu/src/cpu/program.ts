// One declaration per WebAssembly kernel: its export name and its argument block. The build
// (scripts/build-wasm.ts) generates the C struct each kernel reads from these same declarations, and
// the CPU engine packs the block from them, so the layout exists once. This file imports nothing: the
// build loads it without the rest of the package.

/** A field of a kernel's argument block: a pointer into the WebAssembly memory, a scalar, or a fixed array. */
export type CpuArgType =
  | 'f32*'
  | 'i32*'
  | 'u32*'
  | 'u16*'
  | 'u8*'
  | 'u32'
  | 'i32'
  | 'f32'
  | readonly ['u32' | 'i32' | 'f32', number];

/** A WebAssembly kernel: `void k_<name>(const struct <name>_args *a, uint32_t tid, uint32_t nthreads)`. */
export interface CpuProgram<A extends Record<string, CpuArgType> = Record<string, CpuArgType>> {
  readonly name: string;
  readonly args: A;
}

/** Declares a kernel's argument block (field order is the C struct's order). */
export function cpuProgram<const A extends Record<string, CpuArgType>>(name: string, args: A): CpuProgram<A> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`cpuProgram: invalid name ${name}`);
  return { name, args };
}

/** Words (4 bytes) a field takes. */
export function argWords(t: CpuArgType): number {
  return typeof t === 'string' ? 1 : t[1];
}

const C_SCALAR = { u32: 'uint32_t', i32: 'int32_t', f32: 'float' } as const;
const C_POINTER = { 'f32*': 'float', 'i32*': 'int32_t', 'u32*': 'uint32_t', 'u16*': 'uint16_t', 'u8*': 'uint8_t' } as const;

/** The C declaration of a program's argument struct (every field is 4 bytes wide on wasm32). */
export function cStruct(p: CpuProgram): string {
  const fields = Object.entries(p.args).map(([name, t]) => {
    if (typeof t !== 'string') return `  ${C_SCALAR[t[0]]} ${name}[${t[1]}];`;
    if (t.endsWith('*')) return `  ${C_POINTER[t as keyof typeof C_POINTER]} *${name};`;
    return `  ${C_SCALAR[t as keyof typeof C_SCALAR]} ${name};`;
  });
  return [
    `struct ${p.name}_args {`,
    ...fields,
    `};`,
    `void k_${p.name}(const struct ${p.name}_args *a, uint32_t tid, uint32_t nthreads);`,
  ].join('\n');
}
