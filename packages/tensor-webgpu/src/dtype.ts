/** Element types a tensor can hold. `bool` is stored as u32 0/1; `u8` is packed four to a u32 word. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32' | 'u8' | 'bool';

/** Bytes per element as stored on the GPU (u8 packs 4 per word; bool takes a word). */
export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'f16':
      return 2;
    case 'u8':
      return 1;
    default:
      return 4;
  }
}

/** Bytes a buffer needs for `size` elements, rounded up to whole 4-byte words. */
export function storageBytes(dtype: DType, size: number): number {
  return Math.max(4, Math.ceil((size * bytesPerElement(dtype)) / 4) * 4);
}

/** True for floating-point dtypes (the only ones autograd differentiates). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16';
}

/** The WGSL scalar type a kernel computes in for a dtype. */
export function wgslType(dtype: DType): 'f32' | 'f16' | 'i32' | 'u32' {
  switch (dtype) {
    case 'f32':
      return 'f32';
    case 'f16':
      return 'f16';
    case 'i32':
      return 'i32';
    default:
      return 'u32';
  }
}

/** Typed array a dtype reads back into. */
export type TypedArrayFor<D extends DType> = D extends 'i32'
  ? Int32Array
  : D extends 'u32' | 'bool'
    ? Uint32Array
    : D extends 'u8'
      ? Uint8Array
      : Float32Array;

/** Message of the error raised when a kernel would write or compute in f16 without `shader-f16`. */
export function halfStorageOnlyMessage(what: string): string {
  return `${what}: f16 arithmetic needs the shader-f16 feature, which this device lacks; f16 tensors here are storage only (upload, read back, cast, copy, gather, and the weight of linear/matmul/conv/embedding). Cast to f32 first`;
}
