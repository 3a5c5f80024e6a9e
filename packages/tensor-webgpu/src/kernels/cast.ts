// Casts that the elementwise template cannot express: writing dtypes packed several to a u32 word
// (u8: four, and f16 on devices without shader-f16: two). One thread writes one whole word, so no
// two threads touch a word. Reading packed dtypes is handled by the shared element loader, so the
// elementwise template casts *from* them. The CPU engine runs the same casts in src/cpu/cast.ts.
import { cpuPack } from '../cpu/cast.js';
import { Tensor, shapeSize } from '../tensor.js';
import { elementLoaderWgsl, storageDType, storageType, type StorageDType } from './elementwise.js';
import { MAX_RANK, coalesce, fmtShape, unravelWgsl } from './shape.js';
import { wgslProgram } from './program.js';

const WG = 256;

// Half bits of an f32, rounded to nearest even like the host's toHalfBits. pack2x16float is
// undefined outside the finite half range, so overflow (to ±Inf) and NaN are handled here.
export const HALF_BITS_WGSL = `fn half_bits(x: f32) -> u32 {
  if (x != x) { return 0x7e00u; }
  let sign = select(0u, 0x8000u, x < 0.0);
  if (abs(x) >= 65520.0) { return sign | 0x7c00u; }
  return pack2x16float(vec2<f32>(x, 0.0)) & 0xffffu;
}`;

/** A dtype written packed into u32 words. */
export type PackedDType = 'u8' | 'f16';

/** Elements per u32 word of a packed dtype. */
const perWord = (dst: PackedDType) => (dst === 'u8' ? 4 : 2);

/** The parameters of a pack kernel variant: the source's storage dtype and the packed result. */
export interface PackSpec {
  src: StorageDType;
  dst: PackedDType;
}

/**
 * The pack kernel reading `src` and writing whole `out` words. u8: floats round to nearest and
 * saturate to 0..255; f16: round to nearest, overflow gives ±Inf (as the host's conversion does).
 */
export const packProgram = wgslProgram({
  name: 'pack',
  bindings: (p: PackSpec) => ({
    src: { access: 'read' as const, type: storageType(p.src) },
    out: { access: 'read_write' as const, type: 'u32' },
  }),
  uniforms: { n: 'u32', rank: 'u32', off: 'u32', shape: ['u32', MAX_RANK], st: ['u32', MAX_RANK] },
  workgroupSize: () => WG,
  body: ({ src, dst }, ctx) => {
    const per = perWord(dst);
    const read = elementLoaderWgsl('load_src', 'src', src);
    let convert: string;
    if (dst === 'f16')
      convert = `${HALF_BITS_WGSL}\nfn convert(e: u32) -> u32 { return half_bits(f32(load_src(e))); }`;
    else if (src === 'u8') convert = 'fn convert(e: u32) -> u32 { return load_src(e); }';
    else if (src === 'f32' || src === 'f16' || src === 'f16p')
      convert = 'fn convert(e: u32) -> u32 { return u32(clamp(round(load_src(e)), 0.0, 255.0)); }';
    else if (src === 'i32')
      convert = 'fn convert(e: u32) -> u32 { return u32(clamp(load_src(e), 0i, 255i)); }';
    else convert = 'fn convert(e: u32) -> u32 { return min(load_src(e), 255u); }';
    const bits = dst === 'u8' ? 8 : 16;
    return `${read}
${convert}
@compute @workgroup_size(${ctx.workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = linearIndex(wid, lid, nwg);
  if (w * ${per}u >= u.n) { return; }
  var word = 0u;
  for (var j = 0u; j < ${per}u; j++) {
    let e = w * ${per}u + j;
    if (e < u.n) {
      var o = u.off;
${unravelWgsl('e', 'u.rank', 'shape', [{ off: 'o', strides: 'st' }])}
      word = word | (convert(o) << (${bits}u * j));
    }
  }
  out[w] = word;
}`;
  },
});

/** Casts (or copies) any tensor view to a new contiguous tensor of a packed dtype. */
export function launchPack(x: Tensor, dst: PackedDType): Tensor {
  const out = Tensor.empty(x.shape, dst, x.engine);
  const n = shapeSize(x.shape);
  if (n === 0) return out;
  const co = coalesce(x.shape, [x.strides]);
  if (co.shape.length > MAX_RANK)
    throw new Error(`cast: layout of ${fmtShape(x.shape)} is too deep for the ${dst} pack kernel`);
  const label = `cast ${fmtShape(x.shape)} ${x.dtype}->${dst}`;
  const engine = x.engine;
  if (engine.kind === 'cpu') {
    cpuPack(engine, x, out, co, n, label);
    return out;
  }
  packProgram.dispatch(
    engine,
    { src: storageDType(x), dst },
    {
      label,
      buffers: { src: x.buffer, out: out.buffer },
      uniforms: { n, rank: co.shape.length, off: x.offset, shape: co.shape, st: co.strides[0] },
      // One thread per output word.
      workgroups: engine.grid(Math.ceil(n / perWord(dst) / WG)),
    },
  );
  return out;
}
