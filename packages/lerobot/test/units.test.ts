import { describe, expect, test } from 'vitest';
import {
  aggregateStats,
  computeFeatureStats,
  deltaWindow,
  formatPathTemplate,
  imageStatsSampleIndices,
  imageStatsStride,
  LruCache,
  normalizeInPlace,
  padLayout,
  parseInfo,
  resizeWithPad,
  secondsToFrameOffsets,
  seededPermutation,
  StreamingFeatureStats,
  FfmpegDecoder,
  type Mp4Sample,
  type VideoDecodeRequest,
  unnormalizeInPlace,
  type DatasetInfo,
} from '../src/index';
import { resolveRobotMapping } from '../src/robotMapping';
import { rng } from './helpers';
import { referenceMoments, referenceResizeWithPad } from './reference';

describe('resizeWithPad', () => {
  const cases: [number, number, number, number][] = [
    [48, 64, 224, 224],
    [480, 640, 224, 224],
    [37, 23, 32, 40],
    [100, 100, 64, 64],
    [20, 30, 20, 30],
  ];
  test.each(cases)('%ix%i → %ix%i matches a direct 2-D reference and pads with black', (h, w, dh, dw) => {
    const r = rng(h * 1000 + w);
    const src = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(r() * 256));
    const out = resizeWithPad(src, h, w, dh, dw);
    const ref = referenceResizeWithPad(src, h, w, dh, dw, 0);
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
    const L = padLayout(h, w, dh, dw);
    // Aspect ratio kept; one side fills the canvas; padding is zero.
    expect(L.resizedHeight === dh || L.resizedWidth === dw).toBe(true);
    expect(Math.abs(L.resizedWidth / L.resizedHeight - w / h)).toBeLessThan(
      Math.max(1 / L.resizedHeight, 1 / L.resizedWidth) * (w / h) + 1e-9,
    );
    for (let y = 0; y < dh; y++) {
      for (let x = 0; x < dw; x++) {
        const inside =
          y >= L.top && y < L.top + L.resizedHeight && x >= L.left && x < L.left + L.resizedWidth;
        if (!inside) expect(out[(y * dw + x) * 3]).toBe(0);
      }
    }
  });

  test('64x48 into 224x224 leaves 28 black rows above and below', () => {
    expect(padLayout(48, 64, 224, 224)).toEqual({ resizedHeight: 168, resizedWidth: 224, top: 28, left: 0 });
    const out = resizeWithPad(new Uint8Array(48 * 64 * 3).fill(200), 48, 64, 224, 224);
    expect(out[(27 * 224 + 100) * 3]).toBe(0);
    expect(out[(28 * 224 + 100) * 3]).toBe(200);
    expect(out[(195 * 224 + 100) * 3]).toBe(200);
    expect(out[(196 * 224 + 100) * 3]).toBe(0);
  });
});

describe('stats', () => {
  test('accurate stats equal a float64 reference; quantiles follow the histogram within a bin', () => {
    const r = rng(11);
    const n = 3000;
    const width = 4;
    const rows = Array.from({ length: n }, () =>
      Array.from({ length: width }, (_, j) => (r() + r() + r()) * (j + 1) - j * 10),
    );
    const s = computeFeatureStats(rows.flat(), width);
    const ref = referenceMoments(rows);
    for (let j = 0; j < width; j++) {
      expect(s.mean[j]).toBeCloseTo(ref.mean[j], 10);
      expect(s.std[j]).toBeCloseTo(ref.std[j], 10);
      expect(s.min[j]).toBe(ref.min[j]);
      expect(s.max[j]).toBe(ref.max[j]);
      const sorted = rows.map((x) => x[j]).sort((a, b) => a - b);
      const bin = (ref.max[j] - ref.min[j]) / 5000;
      for (const [key, q] of [
        ['q01', 0.01],
        ['q10', 0.1],
        ['q50', 0.5],
        ['q90', 0.9],
        ['q99', 0.99],
      ] as const) {
        const i = q * n;
        const lo = sorted[Math.max(0, Math.floor(i) - 1)];
        const hi = sorted[Math.min(n - 1, Math.ceil(i))];
        expect(s[key]![j]).toBeGreaterThanOrEqual(lo - bin);
        expect(s[key]![j]).toBeLessThanOrEqual(hi + bin);
      }
    }
    expect(s.count).toEqual([n]);
  });

  test('LeRobot aggregation of chunks equals direct stats for moments and extremes', () => {
    const r = rng(5);
    const chunks = [13, 200, 1, 77].map((len) => Array.from({ length: len * 3 }, () => r() * 10 - 3));
    const per = chunks.map((c) => ({ x: computeFeatureStats(c, 3) }));
    const agg = aggregateStats(per).x;
    const direct = computeFeatureStats(chunks.flat(), 3);
    for (let j = 0; j < 3; j++) {
      expect(agg.mean[j]).toBeCloseTo(direct.mean[j], 12);
      expect(agg.std[j]).toBeCloseTo(direct.std[j], 12);
      expect(agg.min[j]).toBe(direct.min[j]);
      expect(agg.max[j]).toBe(direct.max[j]);
      // Quantiles are count-weighted means of the per-chunk quantiles, as LeRobot does.
      const w = per.reduce((a, p) => a + p.x.q50![j] * p.x.count[0], 0) / 291;
      expect(agg.q50![j]).toBeCloseTo(w, 12);
    }
    expect(agg.count).toEqual([291]);
  });

  test('streaming two-pass stats equal the in-memory computation', () => {
    const r = rng(21);
    const rows = Array.from({ length: 777 }, () => Array.from({ length: 3 }, () => r() * 50 - 20));
    const s = new StreamingFeatureStats(3);
    for (const row of rows) s.add(row);
    s.startSecondPass();
    for (const row of rows) s.add(row);
    const got = s.result();
    const want = computeFeatureStats(rows.flat(), 3);
    for (const k of ['min', 'max', 'mean', 'std', 'q01', 'q10', 'q50', 'q90', 'q99'] as const) {
      for (let j = 0; j < 3; j++) expect(got[k]![j]).toBeCloseTo(want[k]![j], 9);
    }
    expect(got.count).toEqual([777]);
  });

  test('image stats sampling follows LeRobot (round(linspace), half to even)', () => {
    const check = (len: number, n: number, sum: number, head: number[], tail: number[]) => {
      const idx = imageStatsSampleIndices(len);
      expect(idx.length).toBe(n);
      expect(idx.reduce((a, b) => a + b, 0)).toBe(sum);
      expect(idx.slice(0, head.length)).toEqual(head);
      expect(idx.slice(-tail.length)).toEqual(tail);
    };
    // Values printed by NumPy 2.4 for the same lengths.
    check(107, 100, 5300, [0, 1, 2, 3, 4, 5, 6, 7], [104, 105, 106]);
    check(500, 105, 26198, [0, 5, 10, 14, 19, 24, 29, 34], [489, 494, 499]);
    check(1549, 246, 190404, [0, 6, 13, 19, 25, 32, 38, 44], [1535, 1542, 1548]);
    check(7, 7, 21, [0, 1, 2, 3], [4, 5, 6]);
    expect(imageStatsStride(480, 640)).toBe(4);
    expect(imageStatsStride(48, 64)).toBe(1);
  });
});

describe('small pieces', () => {
  test('deltaWindow and secondsToFrameOffsets', () => {
    expect(deltaWindow(2, 5, [-3, -1, 0, 2, 3])).toEqual({
      rows: Int32Array.from([0, 1, 2, 4, 4]),
      isPad: Uint8Array.from([1, 0, 0, 0, 1]),
    });
    expect(deltaWindow(0, 1, [0, 1])).toEqual({
      rows: Int32Array.from([0, 0]),
      isPad: Uint8Array.from([0, 1]),
    });
    expect(() => deltaWindow(5, 5, [0])).toThrow(/outside an episode of 5 frames/);
    expect(secondsToFrameOffsets([-0.5, 0, 1 / 30], 30)).toEqual([-15, 0, 1]);
    expect(() => secondsToFrameOffsets([0.01], 30)).toThrow(/not a multiple of 1\/30/);
  });

  test('path templates', () => {
    expect(
      formatPathTemplate('data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet', {
        episode_chunk: 1,
        episode_index: 1234,
      }),
    ).toBe('data/chunk-001/episode_001234.parquet');
    expect(
      formatPathTemplate('videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4', {
        video_key: 'cam',
        chunk_index: 0,
        file_index: 12,
      }),
    ).toBe('videos/cam/chunk-000/file-012.mp4');
    expect(() => formatPathTemplate('{nope}', {})).toThrow(/unknown field 'nope'/);
  });

  test('normalize round trip uses (x - mean) / (std + 1e-6)', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    const stats = { min: [0, 0], max: [0, 0], mean: [1, 3], std: [2, 0], count: [2] };
    normalizeInPlace(x, 2, stats);
    expect(x[0]).toBe(0);
    expect(x[1]).toBeCloseTo(-1 / 1e-6, 3);
    expect(x[2]).toBeCloseTo(2 / (2 + 1e-6), 12);
    unnormalizeInPlace(x, 2, stats);
    expect(Array.from(x).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 2, 3, 4]);
  });

  test('seeded permutation is a permutation and depends only on the seed', () => {
    const a = seededPermutation(1000, 42);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seededPermutation(1000, 42)).toEqual(a);
    expect(seededPermutation(1000, 43)).not.toEqual(a);
  });

  test('ffmpeg requests are split into runs only where seeking beats decoding through', () => {
    // 300 frames, a keyframe every 2 frames.
    const order: Mp4Sample[] = Array.from({ length: 300 }, (_, i) => ({
      decodeIndex: i,
      frameIndex: i,
      time: i / 30,
      cts: i,
      dts: i,
      duration: 1,
      offset: i,
      size: 1,
      isSync: i % 2 === 0,
    }));
    const req = (idx: number[]) =>
      ({
        frames: idx.map((i) => order[i]),
        index: { decodeOrder: order, frames: order },
      }) as unknown as VideoDecodeRequest;
    const runs = (idx: number[]) => FfmpegDecoder.clusters(req(idx)).map((r) => r.map((f) => f.frameIndex));
    expect(runs([10, 25, 40])).toEqual([[10, 25, 40]]);
    expect(runs([0, 61, 200, 201])).toEqual([
      [0, 61],
      [200, 201],
    ]);
    expect(runs([0, 63])).toEqual([[0], [63]]);
  });

  test('LRU cache evicts least recently used by cost', () => {
    const c = new LruCache<string, number>(10, (v) => v);
    c.set('a', 4);
    c.set('b', 4);
    c.get('a');
    c.set('c', 4);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(4);
    expect(c.cost).toBe(8);
  });
});

describe('robot mappings (SPEC §2)', () => {
  const info = (
    robot: string | null,
    features: Record<string, number | [number, number, number]>,
  ): DatasetInfo =>
    parseInfo({
      codebase_version: 'v3.0',
      robot_type: robot,
      fps: 30,
      total_episodes: 0,
      total_frames: 0,
      data_path: 'd',
      video_path: 'v',
      features: Object.fromEntries(
        Object.entries(features).map(([k, s]) => [
          k,
          typeof s === 'number' ? { dtype: 'float32', shape: [s] } : { dtype: 'video', shape: s },
        ]),
      ),
    });
  const cam: [number, number, number] = [48, 64, 3];
  const internData = (arm: number) => ({
    ...Object.fromEntries(
      ['left_joint', 'right_joint'].flatMap((p) => [
        [`states.${p}.position`, arm],
        [`actions.${p}.position`, arm],
      ]),
    ),
    ...Object.fromEntries(
      ['left_gripper', 'right_gripper'].flatMap((p) => [
        [`states.${p}.position`, 1],
        [`actions.${p}.position`, 1],
      ]),
    ),
    'images.rgb.head': cam,
    'images.rgb.hand_left': cam,
    'images.rgb.hand_right': cam,
  });

  test('InternData-A1 Genie-1: L arm 7, R arm 7, L gripper, R gripper; 14 delta + 2 absolute', () => {
    const m = resolveRobotMapping(info('Genie-1', internData(7)));
    expect(m.robot).toBe('Genie-1');
    expect(m.stateKeys).toEqual([
      'states.left_joint.position',
      'states.right_joint.position',
      'states.left_gripper.position',
      'states.right_gripper.position',
    ]);
    expect(m.actionKeys[0]).toBe('actions.left_joint.position');
    expect(m.deltaMask).toEqual([...Array(14).fill(true), false, false]);
    expect(m.cameras).toEqual({
      head: 'images.rgb.head',
      hand_left: 'images.rgb.hand_left',
      hand_right: 'images.rgb.hand_right',
    });
  });

  test.each(['ARX Lift-2', 'ARX AC One', 'arx_lift2'])(
    'InternData-A1 %s: L arm 6, L gripper, R arm 6, R gripper',
    (robot) => {
      const m = resolveRobotMapping(info(robot, internData(6)));
      expect(m.robot).toBe(robot === 'ARX AC One' ? 'ARX AC One' : 'ARX Lift-2');
      expect(m.stateKeys).toEqual([
        'states.left_joint.position',
        'states.left_gripper.position',
        'states.right_joint.position',
        'states.right_gripper.position',
      ]);
      expect(m.deltaMask).toEqual([...Array(6).fill(true), false, ...Array(6).fill(true), false]);
    },
  );

  test('AgiBot-World a2d keys map to the Genie-1 layout', () => {
    const m = resolveRobotMapping(
      info('a2d', {
        'observation.states.joint.position': 14,
        'observation.states.effector.position': 2,
        'actions.joint.position': 14,
        'actions.effector.position': 2,
        'observation.images.head': cam,
        'observation.images.hand_right': cam,
      }),
    );
    expect(m).toMatchObject({ robot: 'Genie-1', keyFamily: 'AgiBot-World' });
    expect(m.cameras).toEqual({
      head: 'observation.images.head',
      hand_right: 'observation.images.hand_right',
    });
    expect(m.deltaMask.filter(Boolean)).toHaveLength(14);
  });

  test('generic LeRobot keys: absolute actions, cameras guessed by name', () => {
    const m = resolveRobotMapping(
      info('so101_follower', {
        'observation.state': 6,
        action: 6,
        'observation.images.wrist_left': cam,
        'observation.images.top': cam,
        'observation.images.side': cam,
      }),
    );
    expect(m).toMatchObject({ robot: 'generic', stateKeys: ['observation.state'], actionKeys: ['action'] });
    expect(m.deltaMask).toEqual(Array(6).fill(false));
    expect(m.cameras).toEqual({
      head: 'observation.images.top',
      hand_left: 'observation.images.wrist_left',
      hand_right: 'observation.images.side',
    });
    // A known robot with generic keys and a fitting action width gets its mask.
    expect(
      resolveRobotMapping(info('ARX Lift-2', { 'observation.state': 14, action: 14 })).deltaMask.filter(
        Boolean,
      ),
    ).toHaveLength(12);
  });

  test('bad overrides are reported', () => {
    const i = info(null, { 'observation.state': 6, action: 6, 'observation.images.top': cam });
    expect(() => resolveRobotMapping(i, { stateKeys: ['nope'] })).toThrow(
      /feature 'nope' is not in meta\/info\.json/,
    );
    expect(() => resolveRobotMapping(i, { deltaMask: [true] })).toThrow(
      /delta mask has 1 entries but the action has 6 dims/,
    );
    expect(() => resolveRobotMapping(i, { cameras: { head: 'action' } })).toThrow(
      /camera slot 'head' maps to 'action'/,
    );
  });
});
