// The declarative WGSL program layer: declarations, bind order, uniform struct and cache key come from
// one spec; a dispatch binds by name and packs uniforms by name.
import { describe, expect, it } from 'vitest';
import { wgslProgram, type UniformSchema } from '../src/kernels/program.js';
import { Tensor } from '../src/index.js';
import { gpuEngine, onWebGpu } from './setup.js';

// out[i] = a * x[off + i * stride] + (bias ? b[i] : 0)
const axpy = wgslProgram({
  name: 'test-axpy',
  bindings: (p: { bias: boolean; wg: number }) => ({
    x: { access: 'read' as const, type: 'f32' },
    ...(p.bias ? { b: { access: 'read' as const, type: 'f32' } } : {}),
    out: { access: 'read_write' as const, type: 'f32' },
  }),
  uniforms: { n: 'u32', a: 'f32', off: 'u32', stride: 'u32', pad: ['u32', 6] },
  workgroupSize: (p) => p.wg,
  body: (p, ctx) => `@compute @workgroup_size(${ctx.workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  out[i] = u.a * x[u.off + i * u.stride]${p.bias ? ' + b[i]' : ''} + f32(pad_at(5u));
}`,
});

describe('wgslProgram', () => {
  it('generates the declarations in bind order, the uniform struct and the accessors', () => {
    const code = axpy.wgsl({ bias: true, wg: 64 });
    const decl = code.split('\n').filter((l) => l.startsWith('@group'));
    expect(decl).toEqual([
      '@group(0) @binding(0) var<storage, read> x: array<f32>;',
      '@group(0) @binding(1) var<storage, read> b: array<f32>;',
      '@group(0) @binding(2) var<storage, read_write> out: array<f32>;',
      '@group(0) @binding(3) var<uniform> u: Uniforms;',
    ]);
    expect(code).toContain('  a: f32,');
    expect(code).toContain('  pad: array<vec4<u32>, 2>,');
    expect(code).toContain('fn pad_at(i: u32) -> u32');
    expect(code).not.toContain('enable f16');
    // Without the optional binding, out moves to 1 and the uniforms to 2.
    expect(axpy.wgsl({ bias: false, wg: 64 })).toContain(
      '@group(0) @binding(1) var<storage, read_write> out: array<f32>;',
    );
  });

  it('keys a variant by every parameter, whatever order they are given in', () => {
    expect(axpy.key({ bias: true, wg: 64 })).toBe(
      axpy.key({ wg: 64, bias: true } as { bias: boolean; wg: number }),
    );
    expect(axpy.key({ bias: true, wg: 64 })).not.toBe(axpy.key({ bias: true, wg: 128 }));
    expect(axpy.key({ bias: true, wg: 64 })).toMatch(/^test-axpy:/);
  });

  it('packs uniform values by name: scalars first (padded to 16 bytes), then each array in vec4s', () => {
    const data = axpy.uniformData({ n: 7, a: 2.5, off: 3, stride: 2, pad: [1, 2, 3, 4, 5, 6] });
    expect(data.length).toBe(12);
    expect([data[0], new Float32Array(data.buffer)[1], data[2], data[3]]).toEqual([7, 2.5, 3, 2]);
    expect(Array.from(data.slice(4, 10))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('takes a uniform schema that depends on the parameters', () => {
    // One offset per operand: the struct and the packing follow p.
    const sum = wgslProgram({
      name: 'test-sum',
      bindings: (p: { k: number }) => ({
        ...Object.fromEntries(
          Array.from({ length: p.k }, (_, i) => [`in${i}`, { access: 'read' as const, type: 'f32' }]),
        ),
        out: { access: 'read_write' as const, type: 'f32' },
      }),
      uniforms: (p: { k: number }): UniformSchema => ({
        n: 'u32' as const,
        ...Object.fromEntries(Array.from({ length: p.k }, (_, i) => [`off${i}`, 'u32' as const])),
      }),
      workgroupSize: () => 64,
      body: () => '',
    });
    expect(sum.wgsl({ k: 2 })).toContain('  off1: u32,');
    expect(sum.wgsl({ k: 1 })).not.toContain('off1');
    expect(sum.wgsl({ k: 2 })).toContain('@group(0) @binding(3) var<uniform> u: Uniforms;');
    expect(Array.from(sum.uniformData({ n: 5, off0: 1, off1: 2, unused: 9 }, { k: 2 }))).toEqual([
      5, 1, 2, 0,
    ]);
    expect(() => sum.uniformData({ n: 5 })).toThrow(/depends on the parameters/);
  });

  it('enables the extensions a variant asks for, before any declaration, f16 once', () => {
    const sg = wgslProgram({
      name: 'test-enables',
      bindings: (p: { half: boolean; sg: boolean }) => ({
        x: { access: 'read_write' as const, type: p.half ? 'f16' : 'f32' },
      }),
      uniforms: {},
      workgroupSize: () => 64,
      enables: (p) => (p.sg ? ['subgroups', 'f16'] : []),
      body: () => '',
    });
    const lines = sg.wgsl({ half: true, sg: true }).split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'enable f16;',
      'enable subgroups;',
      '@group(0) @binding(0) var<storage, read_write> x: array<f16>;',
    ]);
    expect(sg.wgsl({ half: false, sg: false })).not.toContain('enable');
  });

  it.runIf(onWebGpu)('dispatches with buffers bound by name', async () => {
    const eng = gpuEngine();
    const n = 300;
    const xs = Float32Array.from({ length: 3 + 2 * n }, (_, i) => i * 0.25);
    const bs = Float32Array.from({ length: n }, (_, i) => -i);
    const x = Tensor.fromData(xs, [xs.length], 'f32', eng);
    const b = Tensor.fromData(bs, [n], 'f32', eng);
    const out = Tensor.empty([n], 'f32', eng);
    axpy.dispatch(
      eng,
      { bias: true, wg: 64 },
      {
        label: 'axpy',
        buffers: { x: x.buffer, b: b.buffer, out: out.buffer },
        uniforms: { n, a: 2, off: 3, stride: 2, pad: [0, 0, 0, 0, 0, 1] },
        workgroups: eng.grid(Math.ceil(n / 64)),
      },
    );
    const got = await out.toArray();
    for (let i = 0; i < n; i++) expect(got[i]).toBe(2 * xs[3 + 2 * i] + bs[i] + 1);
    for (const t of [x, b, out]) t.dispose();
  });
});
