// Backward dK/dV: a workgroup per (key block, kv head, batch) loops over every q head of its GQA
// group and every query block, recomputes P = 2^(s − lse) from the saved LSE, and accumulates
// dV += Pᵀ·dO and dK += dSᵀ·Q with dS = P·(dO·Vᵀ − Δ), Δ = rowsum(dO·O): the GQA sum happens in
// registers, so no atomics (FlashAttention-2, Algorithm 2, split in two kernels with dq.ts).
import { wgslProgram } from '../program.js';
import {
  ATTENTION_THREADS,
  attentionDims,
  attentionWgsl,
  BACKWARD_UNIFORMS,
  io,
  LOG2E,
  maskBinding,
  rowStat,
  type AttentionParams,
} from './shared.js';

/** The dK/dV backward kernel (contiguous DK, DV [B, Hkv, Sk, D]). */
export const attentionDkdvProgram = wgslProgram({
  name: 'attention-dkdv',
  bindings: (p: AttentionParams) => ({
    Q: io(p, 'read'),
    K: io(p, 'read'),
    V: io(p, 'read'),
    ...maskBinding(p),
    DO: io(p, 'read'),
    LSE: rowStat('read'),
    DELTA: rowStat('read'),
    DK: io(p, 'read_write'),
    DV: io(p, 'read_write'),
  }),
  uniforms: BACKWARD_UNIFORMS,
  workgroupSize: () => ATTENTION_THREADS,
  body: (p) => {
    const { D, DV, RS, BR, BC, WG } = attentionDims(p);
    const { common, loadTile, store4, pds, loadRowStats } = attentionWgsl(p);
    const ND = Math.ceil((BC * DV) / WG);
    return `${common({ dout: true })}
var<workgroup> Ks: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Vs: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> dOs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> P: array<f32, ${BR * BC}>;
var<workgroup> dS: array<f32, ${BR * BC}>;
var<workgroup> rowLse: array<f32, ${BR}>;
var<workgroup> rowDelta: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  let hk = wid.y;
  let k0 = wid.x * ${BC}u;
  ${loadTile('Ks', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk')}
  ${loadTile('Vs', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk')}
  var dk: array<vec4<f32>, ${ND}>;
  var dv: array<vec4<f32>, ${ND}>;
  for (var i = 0u; i < ${ND}u; i++) { dk[i] = vec4<f32>(0.0); dv[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sq + ${BR - 1}u) / ${BR}u;
  for (var g = 0u; g < u.grp; g++) {
    hIdx = hk * u.grp + g;
    for (var qb = 0u; qb < nBlocks; qb++) {
      let q0 = qb * ${BR}u;
      workgroupBarrier();
      ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
      ${loadTile('dOs', BR, 'DO', 'rowDO', 'hIdx', 'q0', 'u.sq')}
      ${loadRowStats}
      workgroupBarrier();
      ${pds('P[e] = p;')}
      workgroupBarrier();
      for (var i = 0u; i < ${ND}u; i++) {
        let e = lid + i * ${WG}u;
        if (e < ${BC * DV}u) {
          let c = e / ${DV}u;
          let d = e % ${DV}u;
          var av = dv[i];
          var ak = dk[i];
          for (var r = 0u; r < ${BR}u; r++) {
            av += P[r * ${BC}u + c] * dOs[r * ${RS}u + d];
            ak += dS[r * ${BC}u + c] * Qs[r * ${RS}u + d];
          }
          dv[i] = av;
          dk[i] = ak;
        }
      }
    }
  }
  // The logits were scaled by scale·log2(e) only for the exponent; dS is w.r.t. the natural-scale
  // logit s = scale·q·k, so dK = scale·Σ dS·Q.
  let scale = u.scale2 / ${LOG2E};
  let base = (bIdx * u.hkv + hk) * u.sk;
  for (var i = 0u; i < ${ND}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BC * DV}u && k0 + r < u.sk) {
      let c = (e % ${DV}u) * 4u;
      let at = (base + k0 + r) * ${D}u + c;
      let gk = dk[i] * scale;
      let gv = dv[i];
      ${store4('DK', 'at', 'gk')}
      ${store4('DV', 'at', 'gv')}
    }
  }
}
`;
  },
});
