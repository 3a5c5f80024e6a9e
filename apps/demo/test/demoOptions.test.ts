// The demo's settings: the counts each mode fills in, explicit values winning, and errors naming the
// setting.
import { describe, expect, it } from 'vitest';
import { DEMO_TASKS, resolveDemoOptions } from '../src/demoOptions.js';

describe('resolveDemoOptions', () => {
  it('fine-tunes the shipped policy by default, on both tasks, with a couple of episodes and demonstrations', () => {
    const o = resolveDemoOptions({}, { gpu: false });
    expect(o.maxSteps).toBeUndefined();
    expect(o).toMatchObject({
      out: 'runs/demo',
      tasks: DEMO_TASKS,
      fromScratch: false,
      seeds: 2,
      demos: 2,
      trainSteps: 40,
    });
  });

  it('trains from scratch with larger counts on a GPU than on a CPU', () => {
    const gpu = resolveDemoOptions({ fromScratch: true }, { gpu: true });
    const cpu = resolveDemoOptions({ fromScratch: true }, { gpu: false });
    expect(gpu.demos).toBeGreaterThan(cpu.demos);
    expect(gpu.trainSteps).toBeGreaterThan(cpu.trainSteps);
  });

  it('uses the reduced counts with quick, and explicit values over any mode', () => {
    expect(resolveDemoOptions({ quick: true }, { gpu: true })).toMatchObject({
      seeds: 1,
      maxSteps: 60,
      demos: 1,
      trainSteps: 3,
    });
    expect(resolveDemoOptions({ quick: true, seeds: 3, trainSteps: 7 }, { gpu: false })).toMatchObject({
      seeds: 3,
      trainSteps: 7,
      demos: 1,
    });
    expect(resolveDemoOptions({ demos: 5, policy: 'p.safetensors' }, { gpu: false })).toMatchObject({
      demos: 5,
      policy: 'p.safetensors',
    });
  });

  it('names the setting that is wrong', () => {
    expect(() => resolveDemoOptions({ seeds: 0 }, { gpu: false })).toThrow(
      'demo: seeds must be a positive integer, got 0',
    );
    expect(() => resolveDemoOptions({ trainSteps: 1.5 }, { gpu: false })).toThrow(
      'demo: trainSteps must be a positive integer, got 1.5',
    );
    expect(() => resolveDemoOptions({ tasks: [] }, { gpu: false })).toThrow(
      'demo: tasks must name at least one simulator task',
    );
    expect(() => resolveDemoOptions({ lr: -1 }, { gpu: false })).toThrow(
      'demo: lr must be a number > 0, got -1',
    );
  });
});
