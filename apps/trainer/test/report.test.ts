import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { downsampleIndices } from '../src/report/downsample';
import { foresightPng } from '../src/report/foresightPng';
import type { MetricRecord, TrainRecord } from '../src/report/metricRecord';
import { MetricsLog } from '../src/report/metricsLog';
import { reportData } from '../src/report/reportData';
import { reportHtml } from '../src/report/reportHtml';
import { ReportError } from '../src/report/reportError';
import { writeReport } from '../src/report/writeReport';
import { evalRecord, rng, syntheticRun, trainRecord, uniform } from './reportSynthetic';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vla-report-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n');

describe('MetricsLog', () => {
  test('round trip of every record kind, non-finite values included, appends in order', async () => {
    const rand = rng(11);
    const path = join(dir, 'nested', 'metrics.jsonl');
    const records: MetricRecord[] = [];
    for (let s = 1; s <= 37; s++) {
      const r = trainRecord(s, rand);
      if (s === 5) r.genLoss = null;
      if (s === 9) r.loss = NaN;
      if (s === 10) r.gradNorm = Infinity;
      if (s === 11) r.timing.dataMs = -Infinity;
      records.push(r);
      if (s % 7 === 0) records.push(evalRecord(s, `task "${s}" <x>`, 'so101', rand));
      if (s % 9 === 0)
        records.push({ kind: 'foresight', step: s, file: `foresight/step-${s}.png`, views: 2 });
      if (s % 13 === 0) records.push({ kind: 'event', step: s, message: 'NaN\nstop' });
    }
    records.push({ kind: 'event', step: 37, message: 'NaN' });
    const log = await MetricsLog.open(path);
    // Not awaited one by one: the log serialises them.
    await Promise.all(records.map((r) => log.append(r)));
    await log.close();
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').length - 1).toBe(records.length);
    expect(text).toContain('"loss":"NaN"');
    expect(text).toContain('"gradNorm":"Infinity"');
    expect(text).toContain('"dataMs":"-Infinity"');
    const back = await MetricsLog.read(path);
    expect(back).toEqual(records);
    expect(Number.isNaN((back[records.findIndex((r) => r.step === 9)] as TrainRecord).loss)).toBe(true);
    // A string field that reads "NaN" stays a string.
    expect(back.at(-1)).toEqual({ kind: 'event', step: 37, message: 'NaN' });
    await expect(log.append(records[0])).rejects.toThrow(/append after close/);
  });

  test('resume drops the records written after the checkpoint, then each step is logged once', async () => {
    const path = join(dir, 'metrics.jsonl');
    const first = syntheticRun(53, 3, 10);
    let log = await MetricsLog.open(path);
    for (const r of first) await log.append(r);
    await log.close();

    log = await MetricsLog.open(path, { resumeFromStep: 30 });
    const kept = await MetricsLog.read(path);
    expect(kept).toEqual(first.filter((r) => r.step <= 30));
    // Eval/event records at the checkpoint's own step stay.
    expect(kept.filter((r) => r.kind !== 'train').map((r) => r.step)).toEqual([
      10, 10, 10, 20, 20, 20, 30, 30, 30,
    ]);
    // A train step at or before the checkpoint would be a second copy.
    await expect(log.append(trainRecord(30, rng(1)))).rejects.toThrow(/train step 30 is not after .* 30/);
    const rand = rng(4);
    const second = Array.from({ length: 15 }, (_, i) => trainRecord(31 + i, rand));
    for (const r of second) await log.append(r);
    await log.append({ kind: 'event', step: 30, message: 'resumed from step 30' });
    await log.close();

    const all = await MetricsLog.read(path);
    const trainSteps = all.filter((r) => r.kind === 'train').map((r) => r.step);
    expect(trainSteps).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(all.slice(kept.length, kept.length + 15)).toEqual(second);
    expect((await readdir(dir)).sort()).toEqual(['metrics.jsonl']);

    // Resuming from a step before everything empties the log; resuming past the end keeps it.
    await (await MetricsLog.open(path, { resumeFromStep: 1000 })).close();
    expect(await MetricsLog.read(path)).toEqual(all);
    await (await MetricsLog.open(path, { resumeFromStep: 0 })).close();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  test('a fresh open of a used log refuses to log a train step twice', async () => {
    const path = join(dir, 'metrics.jsonl');
    const log = await MetricsLog.open(path);
    await log.append(trainRecord(1, rng(5)));
    await log.append(trainRecord(2, rng(5)));
    await expect(log.append(trainRecord(2, rng(5)))).rejects.toThrow(ReportError);
    await log.close();
    const again = await MetricsLog.open(path);
    await expect(again.append(trainRecord(1, rng(5)))).rejects.toThrow(
      /train step 1 is not after the last logged train step 2/,
    );
    await again.append(trainRecord(3, rng(5)));
    await again.close();
    expect((await MetricsLog.read(path)).map((r) => r.step)).toEqual([1, 2, 3]);
  });

  test.each([
    ['a cut-off JSON object', '{"kind":"train","step":7,"epoch":0,"samp'],
    ['NUL bytes left by a crash', '\0\0\0\0\0\0'],
    ['a complete line whose record is cut short', '{"kind":"eval","step":7}\n'],
  ])('a torn last line (%s) is dropped without error, and open repairs the file', async (_what, torn) => {
    const path = join(dir, 'metrics.jsonl');
    const rand = rng(6);
    const good = [trainRecord(1, rand), trainRecord(2, rand), evalRecord(2, 'a', 'b', rand)];
    const log = await MetricsLog.open(path);
    for (const r of good) await log.append(r);
    await log.close();
    await appendFile(path, torn);
    expect(await MetricsLog.read(path)).toEqual(good);

    const reopened = await MetricsLog.open(path);
    const next = trainRecord(3, rand);
    await reopened.append(next);
    await reopened.close();
    const text = await lines(path);
    expect(text.length).toBe(5);
    expect(text[4]).toBe('');
    expect(await MetricsLog.read(path)).toEqual([...good, next]);
  });

  test('a complete last record without its newline is kept and the newline restored', async () => {
    const path = join(dir, 'metrics.jsonl');
    const rand = rng(7);
    const a = trainRecord(1, rand);
    const b = trainRecord(2, rand);
    await writeFile(path, JSON.stringify(a) + '\n' + JSON.stringify(b));
    const log = await MetricsLog.open(path);
    const c = trainRecord(3, rand);
    await log.append(c);
    await log.close();
    expect(await MetricsLog.read(path)).toEqual([a, b, c]);
  });

  test.each([
    ['malformed JSON', '{"kind":"train","step":', /metrics\.jsonl line 3: malformed JSON/],
    [
      'a wrong field type',
      JSON.stringify({ ...trainRecord(3, rng(8)), loss: 'low' }),
      /line 3: not a metric record: loss: /,
    ],
    ['an unknown kind', '{"kind":"video","step":3}', /line 3: not a metric record: kind/],
    [
      'a negative step',
      JSON.stringify({ kind: 'event', step: -1, message: 'x' }),
      /line 3: not a metric record: step/,
    ],
  ])('a malformed middle line (%s) is an error naming line 3', async (_what, bad, message) => {
    const path = join(dir, 'metrics.jsonl');
    const rand = rng(9);
    const body = [trainRecord(1, rand), trainRecord(2, rand)].map((r) => JSON.stringify(r));
    // Blank lines do not count as records but do count as lines.
    await writeFile(path, [...body, bad, '', JSON.stringify(trainRecord(4, rand)), ''].join('\n'));
    await expect(MetricsLog.read(path)).rejects.toThrow(message);
    await expect(MetricsLog.read(path)).rejects.toThrow(ReportError);
    await expect(MetricsLog.open(path)).rejects.toThrow(message);
    // The file is left as it was.
    expect((await readFile(path, 'utf8')).split('\n')[2]).toBe(bad);
  });

  test('append validates the record and names the field', async () => {
    const log = await MetricsLog.open(join(dir, 'metrics.jsonl'));
    const bad = { ...trainRecord(1, rng(10)), samples: 1.5 } as TrainRecord;
    await expect(log.append(bad)).rejects.toThrow(/invalid train record: samples:/);
    const noTiming = { ...trainRecord(1, rng(10)), timing: { dataMs: 1 } } as unknown as TrainRecord;
    await expect(log.append(noTiming)).rejects.toThrow(/timing\.uploadMs/);
    await log.append(trainRecord(1, rng(10)));
    await log.close();
    expect(await MetricsLog.read(join(dir, 'metrics.jsonl'))).toHaveLength(1);
  });

  test('reading a missing log names the file', async () => {
    await expect(MetricsLog.read(join(dir, 'nope.jsonl'))).rejects.toThrow(
      /cannot read metrics log .*nope\.jsonl/,
    );
  });
});

// The byte a value in [-1, 1] becomes (float64 reference): round((x + 1) · 127.5), clamped; NaN → 0.
const refByte = (x: number): number =>
  Number.isNaN(x) ? 0 : Math.min(255, Math.max(0, Math.round((x + 1) * 127.5)));

describe('foresightPng', () => {
  test.each([
    [3, 20, 7],
    [1, 5, 26],
    [2, 130, 1],
  ])('%i views of %i px: tiles at the right places with the right values', (views, size, scale) => {
    const rand = rng(100 + views * size);
    const n = views * 3 * size * size;
    const predicted = uniform(n, rand, -1.2, 1.2);
    const real = uniform(n, rand, -1, 1);
    predicted[7] = NaN;
    const png = decode(foresightPng(predicted, real, views, size));
    const tile = size * scale;
    expect(tile).toBeGreaterThanOrEqual(128);
    expect([png.width, png.height, png.channels, png.depth]).toEqual([
      2 * tile + 2,
      views * tile + 2 * (views - 1),
      3,
      8,
    ]);
    let checked = 0;
    for (let Y = 0; Y < png.height; Y++) {
      for (let X = 0; X < png.width; X++) {
        const v = Math.floor(Y / (tile + 2));
        const yIn = Y - v * (tile + 2);
        const col = X < tile ? 0 : X < tile + 2 ? -1 : 1;
        const px = Array.from(png.data.subarray((Y * png.width + X) * 3, (Y * png.width + X) * 3 + 3));
        if (yIn >= tile || col < 0) {
          expect(px, `separator at ${X},${Y}`).toEqual([255, 255, 255]);
          continue;
        }
        const xIn = col === 0 ? X : X - tile - 2;
        const src = col === 0 ? predicted : real;
        const sy = Math.floor(yIn / scale);
        const sx = Math.floor(xIn / scale);
        const want = [0, 1, 2].map((c) => refByte(src[((v * 3 + c) * size + sy) * size + sx]));
        if (px[0] !== want[0] || px[1] !== want[1] || px[2] !== want[2]) {
          expect(px, `pixel ${X},${Y} (view ${v}, ${col === 0 ? 'predicted' : 'real'} ${sx},${sy})`).toEqual(
            want,
          );
        }
        checked++;
      }
    }
    expect(checked).toBe(views * 2 * tile * tile);
  });

  test('bad shapes are errors naming the input and the shape', () => {
    const a = new Float32Array(2 * 3 * 4 * 4);
    expect(() => foresightPng(a, new Float32Array(95), 2, 4)).toThrow(
      /real has 95 values, expected \[2, 3, 4, 4\] = 96/,
    );
    expect(() => foresightPng(a.subarray(1), a, 2, 4)).toThrow(/predicted has 95 values/);
    expect(() => foresightPng(a, a, 0, 4)).toThrow(/views must be a positive integer, got 0/);
    expect(() => foresightPng(a, a, 2, 3.5)).toThrow(/size must be a positive integer/);
  });
});

describe('report data', () => {
  test('downsampling keeps ≤ maxPoints ascending indices, both ends, and every spike', () => {
    const rand = rng(21);
    for (const [n, max, nSeries] of [
      [10_000, 2000, 3],
      [4_321, 500, 1],
      [2_001, 2000, 2],
    ]) {
      const series = Array.from({ length: nSeries }, () =>
        Array.from({ length: n }, () => rand() as number | null),
      );
      const spikes = Array.from({ length: 5 }, () => Math.floor(rand() * n));
      spikes.forEach((i, k) => (series[k % nSeries][i] = k % 2 ? 50 : -50));
      series[0][Math.floor(n / 3)] = NaN;
      series[nSeries - 1][Math.floor(n / 2)] = null;
      const keep = downsampleIndices(series, max);
      expect(keep.length).toBeLessThanOrEqual(max);
      // Three slots per bucket, two used where a bucket has no non-finite value.
      expect(keep.length).toBeGreaterThan(max / 2);
      expect(keep[0]).toBe(0);
      expect(keep.at(-1)).toBe(n - 1);
      for (let i = 1; i < keep.length; i++) expect(keep[i]).toBeGreaterThan(keep[i - 1]);
      for (const i of spikes) expect(keep).toContain(i);
      expect(keep).toContain(Math.floor(n / 3));
    }
    expect(downsampleIndices([[1, 2, 3]], 2000)).toEqual([0, 1, 2]);
  });

  test('header numbers, series, timing means and eval series match the records', () => {
    const records = syntheticRun(5000, 22, 500);
    // Shuffled, with a stale duplicate of step 17 first: order does not matter, the later copy wins.
    const rand = rng(23);
    const shuffled = [...records].sort(() => rand() - 0.5);
    const stale = { ...(records.find((r) => r.step === 17 && r.kind === 'train') as TrainRecord), loss: 99 };
    shuffled.unshift(stale);
    const spike = records.find((r) => r.kind === 'train' && r.step === 4321) as TrainRecord;
    spike.loss = 1e3;
    const d = reportData(shuffled);
    const train = records.filter((r): r is TrainRecord => r.kind === 'train');
    const last = train[train.length - 1];
    expect(d.summary).toEqual({
      lastStep: 5000,
      epoch: last.epoch,
      samples: last.samples,
      lastLoss: last.loss,
      samplesPerSec: last.samplesPerSec,
      wallMs: last.wallMs,
      trainRecords: 5000,
    });
    expect(d.plots.map((p) => p.id)).toEqual(['loss', 'lr', 'throughput', 'gradnorm', 'eval']);
    const loss = d.plots[0];
    expect(loss.series.map((s) => s.label)).toEqual(['loss', 'action loss', 'generation loss']);
    expect(loss.x.length).toBeLessThanOrEqual(2000);
    for (let i = 1; i < loss.x.length; i++) expect(loss.x[i]).toBeGreaterThan(loss.x[i - 1]);
    const byStep = new Map(train.map((r) => [r.step, r]));
    loss.x.forEach((s, i) => {
      expect(loss.ys[0][i]).toBe(byStep.get(s)!.loss);
      expect(loss.ys[2][i]).toBe(byStep.get(s)!.genLoss);
    });
    expect(loss.ys[0]).toContain(1e3);
    expect(loss.ys[0]).not.toContain(99);
    const lr = d.plots[1];
    lr.x.forEach((s, i) => expect(lr.ys[0][i]).toBe(byStep.get(s)!.lr));
    for (const part of d.timing) {
      let sum = 0;
      for (const r of train) sum += r.timing[part.key];
      expect(part.meanMs).toBeCloseTo(sum / train.length, 9);
    }
    const ev = d.plots[4];
    expect(ev.percent).toBe(true);
    expect(ev.x).toEqual([500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000]);
    expect(ev.series.map((s) => s.label)).toEqual(['pick up the cube', 'stack the blocks']);
    const stack = records.filter((r) => r.kind === 'eval' && r.task === 'stack the blocks');
    expect(ev.ys[1]).toEqual(stack.map((r) => (r.kind === 'eval' ? r.successRate : -1)));
    expect(d.evals.map((e) => e.last)).toEqual([
      records.filter((r) => r.kind === 'eval' && r.task === 'pick up the cube').at(-1),
      stack.at(-1),
    ]);
    expect(d.events.map((e) => e.step)).toEqual([500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000]);
  });

  test('non-finite values become gaps; no generation series without generation loss; robots disambiguate tasks', () => {
    const rand = rng(24);
    const train = Array.from({ length: 10 }, (_, i) => ({ ...trainRecord(i + 1, rand), genLoss: null }));
    train[4].loss = NaN;
    const records: MetricRecord[] = [
      ...train,
      evalRecord(5, 'pick', 'cr5', rand),
      evalRecord(5, 'pick', 'so101', rand),
      evalRecord(10, 'pick', 'cr5', rand),
    ];
    const d = reportData(records);
    expect(d.plots[0].series.map((s) => s.label)).toEqual(['loss', 'action loss']);
    expect(d.plots[0].ys[0][4]).toBeNull();
    const ev = d.plots.find((p) => p.id === 'eval')!;
    expect(ev.series.map((s) => s.label)).toEqual(['pick (cr5)', 'pick (so101)']);
    expect(ev.ys[1]).toEqual([(records[11] as { successRate: number }).successRate, null]);
    expect(reportData([]).plots).toEqual([]);
  });
});

describe('writeReport (Node side)', () => {
  test('writes report.html atomically, escapes text, inlines everything, names missing images', async () => {
    const rand = rng(31);
    const png = foresightPng(uniform(3 * 16 * 16, rand), uniform(3 * 16 * 16, rand), 1, 16);
    await writeFile(join(dir, 'good.png'), png);
    await writeFile(join(dir, 'fake.png'), 'not a png');
    await writeFile(join(dir, 'report.html'), 'old report');
    const records: MetricRecord[] = [
      ...syntheticRun(40, 32, 20),
      // A label that would end the embedded JSON's <script> early if "<" were not escaped.
      evalRecord(40, '</script><!-- x', 'cr5', rand),
      { kind: 'foresight', step: 10, file: 'good.png', views: 1 },
      { kind: 'foresight', step: 20, file: 'gone.png', views: 1 },
      { kind: 'foresight', step: 30, file: 'fake.png', views: 1 },
      { kind: 'foresight', step: 40, file: '../outside.png', views: 1 },
    ];
    const path = await writeReport(dir, {
      title: 'run <b>one</b> & "two"',
      config: { lr: 1e-4, nested: { steps: 40n, name: '</script><script>alert(1)</script>' } },
      records,
      notes: ['stopped: <NaN>'],
    });
    expect(path).toBe(join(dir, 'report.html'));
    expect((await readdir(dir)).sort()).toEqual(['fake.png', 'good.png', 'report.html']);
    const html = await readFile(path, 'utf8');
    expect(html).toContain('<title>run &#60;b&#62;one&#60;/b&#62; &#38; &#34;two&#34;</title>');
    expect(html).not.toContain('<b>one</b>');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('stopped: &#60;NaN&#62;');
    expect(html).toContain('&#34;steps&#34;: &#34;40&#34;');
    expect(html).toContain(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
    expect(html).toContain('gone.png: cannot read (ENOENT)');
    expect(html).toContain('fake.png: not a PNG file');
    expect(html).toContain('../outside.png: not inside the run directory');
    expect(html).toContain("default-src 'none'");
    expect(html).toMatch(/uPlot/);
    // Nothing that loads: no src/href attributes other than data: URIs.
    expect(html.match(/\b(src|href)\s*=\s*"(?!data:)[^"]*"/g)).toBeNull();
    expect(html.match(/<(script|link)[^>]*\b(src|href)=/g)).toBeNull();
    // The embedded plot data holds the series exactly.
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1];
    type Plot = { id: string; x: number[]; ys: (number | null)[][]; series: { label: string }[] };
    const plots = (JSON.parse(json) as { plots: Plot[] }).plots;
    expect(plots.map((p) => p.id)).toEqual(['loss', 'lr', 'throughput', 'gradnorm', 'eval']);
    const train = records.filter((r): r is TrainRecord => r.kind === 'train');
    expect(plots[0].x).toEqual(train.map((r) => r.step));
    expect(plots[0].ys[1]).toEqual(train.map((r) => r.actionLoss));
    expect(plots[2].ys[0]).toEqual(train.map((r) => r.samplesPerSec));
    expect(plots[4].series.map((x) => x.label)).toEqual([
      '</script><!-- x',
      'pick up the cube',
      'stack the blocks',
    ]);
  });

  test('inlined library text cannot close its <script> or <style> element', () => {
    const html = reportHtml({
      title: 't',
      configJson: '{}',
      notes: [],
      data: reportData([]),
      images: [],
      assets: { js: 'var s = "</SCRIPT><b>";', css: '/* </style><b> */' },
      generatedAt: new Date(0),
    });
    expect(html).toContain('var s = "<\\/SCRIPT><b>";');
    expect(html).toContain('/* <\\/style><b> */');
    expect(html.match(/<\/script>/gi)).toHaveLength(3);
    expect(html.match(/<\/style>/gi)).toHaveLength(2);
  });

  test('a config that is not JSON is an error naming it', async () => {
    const config: Record<string, unknown> = {};
    config.self = config;
    await expect(writeReport(dir, { title: 't', config, records: [] })).rejects.toThrow(
      /config is not JSON-serialisable/,
    );
  });
});
