// Forward attention: a workgroup per (query block of BR rows, q head, batch). The scaled query tile
// stays in shared memory; key/value blocks of BC rows stream through one shared buffer (K, then V).
// Scores and the softmax run in f32 with base-2 exponentials (log2(e) is folded into the scale),
// keeping a running max m and sum l per row (online softmax), and rescaling the output accumulator
// (registers) by 2^(m_old − m_new) whenever the max grows. Saves the log-sum-exp (base 2) per row
// for the backward.
//
// Two-source keys (inference with a KV cache): with `past`, the keys/values are the cached prefix
// PK/PV [B, Hkv, Sp, D] followed by K/V [B, Hkv, Sk − Sp, D], one logical sequence of Sk rows (mask
// columns: cached first). Tiles pick their source row by row, so the cache is read in place and
// never concatenated.
import { wgslProgram } from '../program.js';
import {
  attentionDims,
  attentionWgsl,
  io,
  MASK_UNIFORMS,
  maskBinding,
  rowStat,
  SHAPE_UNIFORMS,
  ATTENTION_THREADS,
  type AttentionParams,
} from './shared.js';

/** Parameters of a forward kernel. */
export interface AttentionFwdParams extends AttentionParams {
  /** Keys/values come from a cached prefix (PK/PV) followed by K/V. */
  past: boolean;
}

/** The forward attention kernel: O and the base-2 log-sum-exp per query row. */
export const attentionFwdProgram = wgslProgram({
  name: 'attention-fwd',
  bindings: (p: AttentionFwdParams) => ({
    Q: io(p, 'read'),
    K: io(p, 'read'),
    V: io(p, 'read'),
    ...(p.past ? { PK: io(p, 'read'), PV: io(p, 'read') } : {}),
    ...maskBinding(p),
    O: io(p, 'read_write'),
    LSE: rowStat('read_write'),
  }),
  uniforms: {
    ...SHAPE_UNIFORMS,
    sp: 'u32',
    pkOff: 'u32',
    pksb: 'u32',
    pksh: 'u32',
    pkss: 'u32',
    pvOff: 'u32',
    pvsb: 'u32',
    pvsh: 'u32',
    pvss: 'u32',
    ...MASK_UNIFORMS,
  },
  workgroupSize: () => ATTENTION_THREADS,
  body: (p) => {
    const { D, DV, RS, BR, BC, WG } = attentionDims(p);
    const { common, loadTile, store4, dot } = attentionWgsl(p);
    const NO = Math.ceil((BR * DV) / WG);
    return `${common({ past: p.past })}
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> KV: array<vec4<f32>, ${BC * RS}>;
var<workgroup> S: array<f32, ${BR * BC}>;
var<workgroup> rowM: array<f32, ${BR}>;
var<workgroup> rowL: array<f32, ${BR}>;
var<workgroup> rowA: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  hIdx = wid.y;
  let hk = hIdx / u.grp;
  let q0 = wid.x * ${BR}u;
  ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
  if (lid < ${BR}u) { rowM[lid] = MASKED; rowL[lid] = 0.0; }
  var o: array<vec4<f32>, ${NO}>;
  for (var i = 0u; i < ${NO}u; i++) { o[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sk + ${BC - 1}u) / ${BC}u;
  for (var kb = 0u; kb < nBlocks; kb++) {
    let k0 = kb * ${BC}u;
    workgroupBarrier();
    ${loadTile('KV', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk', p.past ? 'PK' : undefined)}
    workgroupBarrier();
    for (var e = lid; e < ${BR * BC}u; e += ${WG}u) {
      let r = e / ${BC}u;
      let c = e % ${BC}u;
      var acc = 0.0;
      ${dot('Qs', `r * ${RS}u`, 'KV', `c * ${RS}u`)}
      S[e] = logit(q0 + r, k0 + c, acc);
    }
    workgroupBarrier();
    // One thread per row updates the running max / sum and turns scores into probabilities, while
    // the others load V over K (K is no longer needed).
    if (lid < ${BR}u) {
      let mOld = rowM[lid];
      var mNew = mOld;
      for (var c = 0u; c < ${BC}u; c++) { mNew = max(mNew, S[lid * ${BC}u + c]); }
      var sum = 0.0;
      for (var c = 0u; c < ${BC}u; c++) {
        let s = S[lid * ${BC}u + c];
        let p = select(exp2(s - mNew), 0.0, s == MASKED);
        S[lid * ${BC}u + c] = p;
        sum += p;
      }
      let alpha = exp2(mOld - mNew);
      rowA[lid] = alpha;
      rowL[lid] = rowL[lid] * alpha + sum;
      rowM[lid] = mNew;
    }
    ${loadTile('KV', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk', p.past ? 'PV' : undefined)}
    workgroupBarrier();
    for (var i = 0u; i < ${NO}u; i++) {
      let e = lid + i * ${WG}u;
      if (e < ${BR * DV}u) {
        let r = e / ${DV}u;
        var acc = o[i] * rowA[r];
        for (var j = 0u; j < ${BC}u; j++) { acc += S[r * ${BC}u + j] * KV[j * ${RS}u + e % ${DV}u]; }
        o[i] = acc;
      }
    }
  }
  workgroupBarrier();
  let base = (bIdx * u.hq + hIdx) * u.sq;
  for (var i = 0u; i < ${NO}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BR * DV}u && q0 + r < u.sq) {
      let l = rowL[r];
      let val = select(vec4<f32>(0.0), o[i] / l, l > 0.0);
      let c = (e % ${DV}u) * 4u;
      let at = (base + q0 + r) * ${D}u + c;
      ${store4('O', 'at', 'val')}
    }
  }
  if (lid < ${BR}u && q0 + lid < u.sq) {
    let l = rowL[lid];
    LSE[base + q0 + lid] = select(MASKED, rowM[lid] + log2(l), l > 0.0);
  }
}
`;
  },
});
