// Per-adapter tuning: every size choice that depends on what kind of device runs the kernels (GEMM
// tiles and the rule that picks them, threads per normalisation row, attention tile candidates)
// lives in one table, one entry per adapter class. The functions that choose (chooseGemmTile,
// normThreads, chooseAttentionTile) read `tuningFor(engine)`, so supporting a new kind of adapter is
// one entry here and one line in `adapterClass`.
import type { Backend } from '../runtime/backend.js';
import type { AttentionStage, AttentionTile } from './attention/shared.js';
import type { GemmTile } from './matmul.js';

/**
 * Kinds of WebGPU adapter that want different kernel shapes: `cpu-vulkan` is a CPU implementation
 * (SwiftShader, llvmpipe/lavapipe), `discrete` and `integrated` are GPUs with their own or shared
 * memory, `unknown` is anything unrecognised (and the CPU engine, which uses none of these choices).
 */
export type AdapterClass = 'cpu-vulkan' | 'discrete' | 'integrated' | 'unknown';

/** The GEMM tiles of an adapter class and the thresholds of {@link chooseGemmTile}'s rule. */
export interface GemmTuning {
  tiles: {
    /** For big products, when the grid still fills the device. */
    large: GemmTile;
    /** Mid-size products. */
    medium: GemmTile;
    /** Few rows (decode, small heads) or tiny products. */
    small: GemmTile;
    /** Few columns (the transposed twin of `small`). */
    narrow: GemmTile;
  };
  /** The large tile is used only when it gives at least this many workgroups (~2 per SM). */
  largeMinGroups: number;
  /** Below this many medium-tile workgroups the device is under-occupied: use the small tile. */
  mediumMinGroups: number;
}

/** Threads per normalisation row: the first step whose `upTo` is ≥ the row length. */
export interface NormTuning {
  threads: readonly { upTo: number; threads: number }[];
}

/** Everything chosen per adapter class. */
export interface Tuning {
  gemm: GemmTuning;
  norm: NormTuning;
  /** Tile candidates per attention stage, preferred first; the first that fits shared memory wins. */
  attention: Readonly<Record<AttentionStage, readonly AttentionTile[]>>;
}

// Register-blocked tiles (see matmul.ts): threads = (bm/tm)·(bn/tn).
const GPU_GEMM: GemmTuning = {
  tiles: {
    /** 128x128, 8x8 per thread, 256 threads (64 FMAs per 4 vec4 shared reads). */
    large: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
    /** 64x64, 4x4 per thread, 256 threads. */
    medium: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
    /** 32x64, 4x4 per thread, 128 threads. */
    small: { bm: 32, bn: 64, bk: 16, tm: 4, tn: 4 },
    /** 64x32, 4x4 per thread, 128 threads. */
    narrow: { bm: 64, bn: 32, bk: 16, tm: 4, tn: 4 },
  },
  // ~2 workgroups per SM on 100+ SM parts.
  largeMinGroups: 192,
  // e.g. 128³ gives 4 medium workgroups: too few, so the rows per tile are halved.
  mediumMinGroups: 8,
};

// Enough threads to give each a few elements of the row, at most 256.
const GPU_NORM: NormTuning = {
  threads: [
    { upTo: 256, threads: 64 },
    { upTo: 1024, threads: 128 },
    { upTo: Infinity, threads: 256 },
  ],
};

// Larger blocks mean fewer passes over K/V; smaller ones fit devices with less shared memory.
const ATTENTION_TILES: Tuning['attention'] = {
  fwd: [
    { br: 64, bc: 32 },
    { br: 32, bc: 32 },
    { br: 32, bc: 16 },
    { br: 16, bc: 16 },
    { br: 16, bc: 8 },
    { br: 8, bc: 8 },
    { br: 4, bc: 4 },
  ],
  dkdv: [
    { br: 16, bc: 32 },
    { br: 16, bc: 16 },
    { br: 8, bc: 16 },
    { br: 8, bc: 8 },
    { br: 4, bc: 8 },
    { br: 4, bc: 4 },
  ],
  dq: [
    { br: 32, bc: 16 },
    { br: 16, bc: 16 },
    { br: 16, bc: 8 },
    { br: 8, bc: 8 },
    { br: 4, bc: 4 },
  ],
};

const GPU: Tuning = { gemm: GPU_GEMM, norm: GPU_NORM, attention: ATTENTION_TILES };

/** The tuning table: one entry per adapter class. */
export const TUNING: Readonly<Record<AdapterClass, Tuning>> = {
  // SwiftShader runs a workgroup's subgroups as fibers switched at every barrier, so wide norm
  // workgroups cost ~10x more (rmsNorm [393x2048]: 256 threads 670 ms, 4 threads 24 ms): one
  // 4-wide subgroup per row, rows spread over the cores as separate workgroups. The GEMM and
  // attention tiles are the GPU ones.
  'cpu-vulkan': { ...GPU, norm: { threads: [{ upTo: Infinity, threads: 4 }] } },
  discrete: GPU,
  integrated: GPU,
  unknown: GPU,
};

const CPU_VULKAN = /swiftshader|llvmpipe|lavapipe/i;
const DISCRETE_VENDORS = /^(nvidia|amd)$/i;
const INTEGRATED_VENDORS = /^(intel|apple|arm|qualcomm|imagination|broadcom|samsung)$/i;
// Intel's discrete parts (Arc) report an Xe-HPG architecture.
const DISCRETE_ARCHITECTURES = /xe-hpg|xe2-hpg/i;

/** The class of an adapter from its info (vendor, architecture, device, description). */
export function classifyAdapter(info: {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}): AdapterClass {
  if (CPU_VULKAN.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`))
    return 'cpu-vulkan';
  if (DISCRETE_VENDORS.test(info.vendor) || DISCRETE_ARCHITECTURES.test(info.architecture)) return 'discrete';
  if (INTEGRATED_VENDORS.test(info.vendor)) return 'integrated';
  return 'unknown';
}

/** The adapter class of an engine (`unknown` for the CPU engine and when there is none). */
export function adapterClass(engine?: Backend): AdapterClass {
  if (!engine || engine.kind !== 'webgpu') return 'unknown';
  // The engine's own CPU-adapter test stays authoritative for the CPU class.
  if (engine.isCpuAdapter) return 'cpu-vulkan';
  return classifyAdapter(engine.gpu.adapterInfo);
}

/** The tuning entry for an engine's adapter class (the `unknown` entry without an engine). */
export function tuningFor(engine?: Backend): Tuning {
  return TUNING[adapterClass(engine)];
}
