// Backward dQ: a workgroup per (query block, q head, batch) loops over key blocks, recomputes P and
// dS as the dK/dV stage does (dkdv.ts) and accumulates dQ += dS·K in registers.
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

/** The dQ backward kernel (contiguous DQ [B, Hq, Sq, D]). */
export const attentionDqProgram = wgslProgram({
  name: 'attention-dq',
  bindings: (p: AttentionParams) => ({
    Q: io(p, 'read'),
    K: io(p, 'read'),
    V: io(p, 'read'),
    ...maskBinding(p),
    DO: io(p, 'read'),
    LSE: rowStat('read'),
    DELTA: rowStat('read'),
    DQ: io(p, 'read_write'),
  }),
  uniforms: BACKWARD_UNIFORMS,
  workgroupSize: () => ATTENTION_THREADS,
  body: (p) => {
    const { D, DV, RS, BR, BC, WG } = attentionDims(p);
    const { common, loadTile, store4, pds, loadRowStats } = attentionWgsl(p);
    const NQ = Math.ceil((BR * DV) / WG);
    return `${common({ dout: true })}
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> dOs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> Ks: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Vs: array<vec4<f32>, ${BC * RS}>;
var<workgroup> dS: array<f32, ${BR * BC}>;
var<workgroup> rowLse: array<f32, ${BR}>;
var<workgroup> rowDelta: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  hIdx = wid.y;
  let hk = hIdx / u.grp;
  let q0 = wid.x * ${BR}u;
  ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
  ${loadTile('dOs', BR, 'DO', 'rowDO', 'hIdx', 'q0', 'u.sq')}
  ${loadRowStats}
  var dq: array<vec4<f32>, ${NQ}>;
  for (var i = 0u; i < ${NQ}u; i++) { dq[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sk + ${BC - 1}u) / ${BC}u;
  for (var kb = 0u; kb < nBlocks; kb++) {
    let k0 = kb * ${BC}u;
    workgroupBarrier();
    ${loadTile('Ks', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk')}
    ${loadTile('Vs', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk')}
    workgroupBarrier();
    ${pds('')}
    workgroupBarrier();
    for (var i = 0u; i < ${NQ}u; i++) {
      let e = lid + i * ${WG}u;
      if (e < ${BR * DV}u) {
        let r = e / ${DV}u;
        var acc = dq[i];
        for (var c = 0u; c < ${BC}u; c++) { acc += dS[r * ${BC}u + c] * Ks[c * ${RS}u + e % ${DV}u]; }
        dq[i] = acc;
      }
    }
  }
  let scale = u.scale2 / ${LOG2E};
  let base = (bIdx * u.hq + hIdx) * u.sq;
  for (var i = 0u; i < ${NQ}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BR * DV}u && q0 + r < u.sq) {
      let c = (e % ${DV}u) * 4u;
      let at = (base + q0 + r) * ${D}u + c;
      let g = dq[i] * scale;
      ${store4('DQ', 'at', 'g')}
    }
  }
}
`;
  },
});
