import type { CameraFrame, Embodiment, Observation } from '@vla/robot-core';
import { OpenpiError } from './openpiError.js';
import { NpScalar, isNdArray, ndarray, ndarrayToFloat64, type NdArray } from './ndarray.js';
import { describe } from './msgpackNumpy.js';

/** Bounds on what an observation dict may carry. */
export interface ObservationLimits {
  /** Largest image (height × width) accepted per camera. Default 4096 × 4096. */
  readonly maxImagePixels?: number;
}

/** An observation dict read by {@link parseObservationDict}. */
export interface ParsedObservation {
  /** The robot snapshot: state in robot units, frames RGB8 HWC. */
  readonly observation: Observation;
  /** Task instruction, when the dict had one. */
  readonly prompt?: string;
  /** RTC: rows of the previous reply already executed when the observation was taken. */
  readonly actionsExecuted?: number;
  /** RTC: control steps expected to execute before the answer arrives. */
  readonly inferenceDelay?: number;
}

const DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096;
const FLOAT_DTYPES = new Set(['<f2', '<f4', '<f8']);

/**
 * The observation dict of a robot {@link Observation}, as the server reads it: `state` float64 `[n]`
 * in robot units, `images` camera name → uint8 `[H, W, 3]`, and `prompt` when given. The arrays view the
 * observation's memory (no copy).
 */
export function observationToOpenpi(
  embodiment: Embodiment,
  observation: Observation,
  prompt?: string,
): Record<string, unknown> {
  const n = embodiment.dims.length;
  if (observation.state.length !== n) {
    throw new OpenpiError(
      `observationToOpenpi: state has ${observation.state.length} values, ${embodiment.robotType} has ${n} dims`,
    );
  }
  const images: Record<string, NdArray> = {};
  for (const [name, f] of Object.entries(observation.images)) {
    images[name] = ndarray(f.data, [f.height, f.width, 3], '|u1');
  }
  const dict: Record<string, unknown> = { state: ndarray(observation.state, [n], '<f8'), images };
  if (prompt !== undefined) dict.prompt = prompt;
  return dict;
}

/**
 * Reads an observation dict (decoded by {@link unpackOpenpi}) against an embodiment: `state` a float
 * ndarray `[n]` (or a list of n numbers) in robot units, `images` a map of the embodiment's camera names
 * to uint8 `[H, W, 3]` or `[3, H, W]` (CHW is transposed; as upstream, a first dimension of 3 means CHW;
 * float images are refused), optional `prompt` str, optional RTC ints `actions_executed` and
 * `inference_delay`. Throws an {@link OpenpiError} naming the key, dtype, shape or value that is wrong.
 */
export function parseObservationDict(
  embodiment: Embodiment,
  dict: unknown,
  timestampMs: number,
  limits: ObservationLimits = {},
): ParsedObservation {
  if (
    typeof dict !== 'object' ||
    dict === null ||
    Array.isArray(dict) ||
    isNdArray(dict) ||
    ArrayBuffer.isView(dict)
  ) {
    throw new OpenpiError(`observation: expected a map, got ${describe(dict)}`);
  }
  const o = dict as Record<string, unknown>;
  const state = readState(embodiment, o.state);
  const images: Record<string, CameraFrame> = {};
  if (o.images !== undefined) {
    if (typeof o.images !== 'object' || o.images === null || Array.isArray(o.images) || isNdArray(o.images)) {
      throw new OpenpiError(
        `observation "images": expected a map of camera name → uint8 image, got ${describe(o.images)}`,
      );
    }
    const known = embodiment.cameras.map((c) => c.name);
    for (const [name, img] of Object.entries(o.images as Record<string, unknown>)) {
      if (!known.includes(name)) {
        throw new OpenpiError(
          `observation "images": unknown camera "${name}" (${embodiment.robotType} has ${known.map((k) => `"${k}"`).join(', ') || 'no cameras'})`,
        );
      }
      images[name] = readImage(name, img, timestampMs, limits.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS);
    }
  }
  let prompt: string | undefined;
  if (o.prompt !== undefined && o.prompt !== null) {
    if (typeof o.prompt !== 'string')
      throw new OpenpiError(`observation "prompt": expected a str, got ${describe(o.prompt)}`);
    prompt = o.prompt;
  }
  const actionsExecuted = readCount(o, 'actions_executed');
  const inferenceDelay = readCount(o, 'inference_delay');
  return {
    observation: { state, images, timestampMs },
    ...(prompt !== undefined ? { prompt } : {}),
    ...(actionsExecuted !== undefined ? { actionsExecuted } : {}),
    ...(inferenceDelay !== undefined ? { inferenceDelay } : {}),
  };
}

function readState(e: Embodiment, v: unknown): Float64Array {
  const n = e.dims.length;
  let values: Float64Array;
  if (v === undefined)
    throw new OpenpiError(`observation: missing "state" (float [${n}] in robot units of ${e.robotType})`);
  if (isNdArray(v)) {
    if (!FLOAT_DTYPES.has(v.dtype)) {
      throw new OpenpiError(
        `observation "state": dtype ${v.dtype} is not a float dtype (send float32 or float64)`,
      );
    }
    if (v.shape.length !== 1 || v.shape[0] !== n) {
      throw new OpenpiError(
        `observation "state": shape [${v.shape.join(', ')}], ${e.robotType} needs [${n}]`,
      );
    }
    values = ndarrayToFloat64(v);
  } else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) {
    if (v.length !== n)
      throw new OpenpiError(`observation "state": ${v.length} values, ${e.robotType} needs ${n}`);
    values = Float64Array.from(v as number[]);
  } else if (typeof v === 'object' && v !== null && '__ndarray__' in v) {
    throw new OpenpiError(
      'observation "state": an ndarray map with str keys; msgpack-numpy keys must be bin (use_bin_type)',
    );
  } else {
    throw new OpenpiError(`observation "state": expected a float ndarray [${n}], got ${describe(v)}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) {
      throw new OpenpiError(`observation "state": ${e.dims[i].name} is ${values[i]}`);
    }
  }
  return values;
}

function readImage(name: string, v: unknown, timestampMs: number, maxPixels: number): CameraFrame {
  const where = `observation "images.${name}"`;
  if (!isNdArray(v)) {
    if (typeof v === 'object' && v !== null && '__ndarray__' in v) {
      throw new OpenpiError(
        `${where}: an ndarray map with str keys; msgpack-numpy keys must be bin (use_bin_type)`,
      );
    }
    throw new OpenpiError(`${where}: expected a uint8 ndarray [H, W, 3] or [3, H, W], got ${describe(v)}`);
  }
  if (v.dtype !== '|u1') {
    throw new OpenpiError(`${where}: dtype ${v.dtype}, images must be uint8 (|u1) [H, W, 3] or [3, H, W]`);
  }
  const s = v.shape;
  if (s.length !== 3 || (s[0] !== 3 && s[2] !== 3)) {
    throw new OpenpiError(`${where}: shape [${s.join(', ')}] is neither [H, W, 3] nor [3, H, W]`);
  }
  const chw = s[0] === 3;
  const height = chw ? s[1] : s[0];
  const width = chw ? s[2] : s[1];
  if (height === 0 || width === 0) throw new OpenpiError(`${where}: shape [${s.join(', ')}] is empty`);
  if (height * width > maxPixels) {
    throw new OpenpiError(
      `${where}: ${height}×${width} = ${height * width} pixels exceeds limits.maxImagePixels = ${maxPixels}`,
    );
  }
  const src = v.data as Uint8Array;
  let data: Uint8Array;
  if (chw) {
    const plane = height * width;
    data = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) {
      data[p * 3] = src[p];
      data[p * 3 + 1] = src[plane + p];
      data[p * 3 + 2] = src[2 * plane + p];
    }
  } else {
    data = src;
  }
  return { width, height, data, timestampMs };
}

function readCount(o: Record<string, unknown>, key: string): number | undefined {
  let v = o[key];
  if (v === undefined || v === null) return undefined;
  if (v instanceof NpScalar) v = typeof v.value === 'bigint' ? Number(v.value) : v.value;
  if (isNdArray(v) && v.shape.length === 0 && /^[<|][iu]/.test(v.dtype)) v = Number(v.data[0]);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new OpenpiError(`observation "${key}": expected a non-negative int, got ${describe(v)}`);
  }
  return v;
}
