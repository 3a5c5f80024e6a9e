import { afterAll, describe, expect, it } from 'vitest';
import { init, shutdown } from '@vla/tensor-webgpu';
import { target, trainTinyMlp } from '../src/train.js';

afterAll(() => shutdown());

describe('tiny MLP demo', () => {
  it('lowers the loss in a few dozen steps and frees its GPU memory', async () => {
    const engine = await init();
    const start = engine.poolStats().inUseBytes;
    const seen: number[] = [];
    const { losses, parameters } = await trainTinyMlp(engine, {
      steps: 40,
      width: 8,
      points: 32,
      onLoss: (_, l) => seen.push(l),
    });
    expect(parameters).toBe(1 * 8 + 8 + 8 * 8 + 8 + 8 * 1 + 1);
    expect(losses.map(([s]) => s)).toEqual([0, 10, 20, 30, 39]);
    expect(seen).toEqual(losses.map(([, l]) => l));
    expect(losses[4][1]).toBeLessThan(0.5 * losses[0][1]);
    expect(engine.poolStats().inUseBytes).toBe(start);
    expect(target(0)).toBe(0);
  });
});
