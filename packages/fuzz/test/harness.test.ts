// The harness itself: every outcome is detected (a campaign that produces each on purpose), and the
// oracles agree with the packages' own writers on valid input and refuse what the formats forbid.
import { describe, expect, it } from 'vitest';
import { serializeSafetensors, toHalfBits, fromHalfBits } from '@vla/tensor-webgpu';
import {
  Rng,
  SELFTEST_KINDS,
  crc32Hex,
  decodeValues,
  parseFile,
  parseFuzzArgs,
  parseStrictJson,
  roundToHalf,
  runCampaign,
  writeFile,
} from '../src/index.js';

describe('runner', () => {
  it('reports each outcome a case produces: thrown errors, stray rejections, process exits, hangs, stalls, leaks', async () => {
    const report = await runCampaign('selftest', {
      seed: 3,
      count: SELFTEST_KINDS.length,
      caseTimeoutMs: 2500,
    });
    const got = Object.fromEntries(report.results.map((r) => [r.kind, r.outcome]));
    const want = Object.fromEntries(SELFTEST_KINDS.map((k) => [k, k.split(':')[0]]));
    expect(got).toEqual(want);
    expect(report.failures().map((r) => r.kind)).toEqual(
      SELFTEST_KINDS.filter((k) => !['clear-error', 'accepted'].includes(k)),
    );
    expect(report.format()).toMatch(/--campaign selftest --seed 3 --case N/);
  });

  it('reruns single cases by index with the same input', async () => {
    const a = await runCampaign('selftest', { seed: 9, count: 0, indices: [1, 2] });
    expect(a.results.map((r) => [r.index, r.outcome])).toEqual([
      [1, 'accepted'],
      [2, 'silent-change'],
    ]);
  });
});

describe('oracles', () => {
  it('strict JSON: keys in order, duplicates refused', () => {
    expect(Object.keys(parseStrictJson('{"b":1,"a":[1,{"c":null}]}') as object)).toEqual(['b', 'a']);
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('{"a":{"x":1,"x":1}}')).toThrow(/duplicate/);
    expect(() => parseStrictJson('{"a":1} x')).toThrow(/trailing/);
    expect(parseStrictJson('{"a":{"x":1},"b":{"x":1}}')).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('safetensors: reads what tensor-webgpu writes, value for value', () => {
    const bytes = serializeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, -2.5, 3e-8, 7]) },
        h: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xfbff]) },
        i: { dtype: 'I64', shape: [1], data: BigInt64Array.from([-9n]) },
        m: { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      },
      { k: 'v' },
    );
    const p = parseFile(bytes);
    if (!p.ok) throw new Error(p.reason);
    expect(p.file.metadata).toEqual({ k: 'v' });
    const byName = Object.fromEntries(p.file.tensors.map((t) => [t.name, Array.from(decodeValues(t))]));
    expect(byName).toEqual({ w: [1, -2.5, Math.fround(3e-8), 7], h: [1, -65504], i: [-9], m: [1, 0, 1] });
  });

  it('safetensors: refuses overlaps, gaps, bad sizes, duplicate names and truncation', () => {
    const ok = writeFile([
      { name: 'a', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
      { name: 'b', dtype: 'U8', shape: [3], data: new Uint8Array(3) },
    ]);
    expect(parseFile(ok).ok).toBe(true);
    const edit = (f: (text: string) => string) => {
      const n = Number(new DataView(ok.buffer).getBigUint64(0, true));
      const text = new TextDecoder().decode(ok.subarray(8, 8 + n)).trimEnd();
      const json = new TextEncoder().encode(f(text));
      const out = new Uint8Array(8 + json.length + 11);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expect(parseFile(edit((t) => t.replace('[8,11]', '[7,10]')))).toMatchObject({ ok: false });
    expect(parseFile(edit((t) => t.replace('[3]', '[4]')))).toMatchObject({ ok: false });
    expect(parseFile(edit((t) => t.replace('"b":', '"a":')))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/duplicate/),
    });
    expect(parseFile(ok.subarray(0, ok.length - 1))).toMatchObject({ ok: false });
  });

  it('f16 rounding matches tensor-webgpu on f32 inputs (ties to even, overflow to infinity)', () => {
    const rng = new Rng(5);
    const f = new Float32Array(1);
    for (let i = 0; i < 20000; i++) {
      f[0] = (rng.next() - 0.5) * 10 ** (rng.next() * 14 - 9);
      expect(roundToHalf(f[0])).toBe(fromHalfBits(toHalfBits(f[0])));
    }
    expect(roundToHalf(65519)).toBe(65504);
    expect(roundToHalf(65520)).toBe(Infinity);
    expect(roundToHalf(-1e5)).toBe(-Infinity);
  });

  it('CRC-32 check value', () => {
    expect(crc32Hex(new TextEncoder().encode('123456789'))).toBe('cbf43926');
  });
});

describe('seeds and flags', () => {
  it('a case stream depends only on (seed, index)', () => {
    const a = Rng.forCase(7, 12);
    const b = Rng.forCase(7, 12);
    const c = Rng.forCase(7, 13);
    const xs = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
  });

  it('parses --count, --seed, --campaign and --case', () => {
    expect(
      parseFuzzArgs(['--count', '50', '--seed', '9', '--campaign', 'datasets,rosbridge', '--case', '3,4'], {
        count: 1,
        seed: 1,
      }),
    ).toEqual({
      count: 50,
      seed: 9,
      campaigns: ['datasets', 'rosbridge'],
      cases: [3, 4],
      quiet: false,
    });
    expect(() => parseFuzzArgs(['--campaign', 'nope'], { count: 1, seed: 1 })).toThrow(/unknown campaign/);
    expect(() => parseFuzzArgs(['--count', '-3'], { count: 1, seed: 1 })).toThrow(/non-negative integer/);
  });
});
