// The training config: presets fill defaults, the SPEC §1 recipe values are the defaults, and every
// kind of mistake is an error naming its field.
import { describe, expect, it } from 'vitest';
import {
  deepMerge,
  parseTrainConfig,
  policyConfigOf,
  TrainConfigError,
  withPreset,
} from '../src/trainConfig.js';

const data = { datasets: [{ path: 'some/dataset' }] };

describe('TrainConfig', () => {
  it('the tiny preset fills every field; the optimizer defaults are upstream’s (SPEC §1)', () => {
    const c = parseTrainConfig(withPreset('tiny', { data }));
    expect(c.mode).toBe('pretrain');
    expect(c.optim.betas).toEqual([0.9, 0.95]);
    expect(c.optim.eps).toBe(1e-8);
    expect(c.optim.weightDecay).toBe(0.01);
    expect(c.optim.clipNorm).toBe(1);
    expect(c.gradAccumulation).toBe(1);
    expect(c.data.latentCache).toBe(true);
    expect(policyConfigOf(c).genLossWeight).toBe(0.01);
    expect(policyConfigOf(c).name).toBe('tiny');
  });

  it('a1-3b fine-tunes with warmup 2000 and a 5e-6 floor at lr 5e-5, and needs init', () => {
    expect(() => parseTrainConfig(withPreset('a1-3b', { data }))).toThrow(
      /init is required by mode "finetune"/,
    );
    const c = parseTrainConfig(withPreset('a1-3b', { data, init: 'base.safetensors' }));
    expect([c.optim.lr, c.optim.warmupSteps, c.optim.floorLr]).toEqual([5e-5, 2000, 5e-6]);
    expect(policyConfigOf(c).name).toBe('a1-3b');
  });

  it('the ablation and λ reach the network config', () => {
    const c = parseTrainConfig(
      withPreset('tiny', { data, model: { generation: false }, genLossWeight: 0.5 }),
    );
    expect(policyConfigOf(c).generation).toBeNull();
    expect(policyConfigOf(c).name).toBe('tiny-nogen');
    expect(policyConfigOf(c).genLossWeight).toBe(0.5);
    const small = parseTrainConfig(
      withPreset('tiny', { data, model: { tiny: { width: 32, imageSize: 32, views: 1 } } }),
    );
    expect([
      policyConfigOf(small).imageSize,
      policyConfigOf(small).views,
      policyConfigOf(small).action.width,
    ]).toEqual([32, 1, 32]);
  });

  it('errors name the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ data: { datasets: [] } }, /^train config: data\.datasets must name at least one dataset/],
      [{ data, steps: 0 }, /^train config: steps must be a positive integer/],
      [{ data, optim: { lr: -1 } }, /^train config: optim\.lr must be a number > 0/],
      [{ data, batchSize: 6, gradAccumulation: 4 }, /gradAccumulation \(4\) must divide batchSize \(6\)/],
      [{ data, stepz: 3 }, /has unknown field\(s\) stepz/],
      [
        { data: { datasets: [{ path: 'x', weight: -2 }] } },
        /data\.datasets\[0\]\.weight must be a number >= 0/,
      ],
      [{ data, model: { preset: 'nope' } }, /^train config: model .*unknown configuration "nope"/],
      [{ data, model: { tiny: { imageSize: 30 } } }, /^train config: model /],
    ];
    for (const [input, message] of cases) {
      let err: unknown;
      try {
        parseTrainConfig(withPreset('tiny', input));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(input)).toBeInstanceOf(TrainConfigError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('deepMerge merges objects and replaces arrays and scalars', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: undefined, e: 2 })).toEqual({
      a: { b: 1, c: [3] },
      d: 1,
      e: 2,
    });
  });
});
