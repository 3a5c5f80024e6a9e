import { MpiError } from './mpiError';

/** Arrays {@link Mpi.allReduceSum} can sum: the element types MPI_FLOAT, MPI_DOUBLE and MPI_INT32_T. */
export type SummableArray = Float32Array | Float64Array | Int32Array;

/** A readable name for whatever was passed, e.g. `Uint8Array`, `DataView`, `number[]`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** Throws unless `value` is a TypedArray or DataView (what broadcast accepts). */
export function requireView(op: string, value: unknown): asserts value is ArrayBufferView {
  if (!ArrayBuffer.isView(value))
    throw new MpiError(`${op}: expected a TypedArray or DataView, got ${describeValue(value)}`);
}

/** Throws unless `value` is a Float32Array, Float64Array or Int32Array (what the sum supports). */
export function requireSummable(op: string, value: unknown): asserts value is SummableArray {
  requireView(op, value);
  if (!(value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array))
    throw new MpiError(
      `${op}: unsupported element type ${describeValue(value)} (supported: Float32Array, Float64Array, Int32Array)`,
    );
}
