// Training checkpoints: a save → load round trip restores weights, processor, optimizer moments and
// state exactly; a corpus of damaged checkpoints is refused, each by name, before anything is used;
// a partial folder left by a killed save is never read and is cleaned up by the next save.
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  readdirSync,
  mkdirSync,
  cpSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InternVLAA1Policy, PolicyProcessor, tinyConfig } from '@vla/internvla-a1';
import { AdamW, manualSeed, mul, sum, tidy } from '@vla/tensor-webgpu';
import { parseTrainConfig, withPreset } from '../src/trainConfig.js';
import {
  latestCheckpoint,
  loadOptimizerState,
  loadTrainCheckpoint,
  readTrainState,
  saveTrainCheckpoint,
  TrainCheckpointError,
} from '../src/trainerCheckpoint.js';
import './setup.js';

const root = mkdtempSync(join(tmpdir(), 'vla-train-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const net = tinyConfig({
  width: 32,
  layers: 1,
  visionLayers: 1,
  imageSize: 32,
  views: 1,
  textTokens: 8,
  vocabSize: 64,
  chunkSize: 4,
});
const trainConfig = parseTrainConfig(
  withPreset('tiny', {
    data: { datasets: [{ path: 'd' }] },
    model: {
      tiny: {
        width: 32,
        layers: 1,
        visionLayers: 1,
        imageSize: 32,
        views: 1,
        textTokens: 8,
        vocabSize: 64,
        chunkSize: 4,
      },
    },
  }),
);
const processor = PolicyProcessor.fromStats({
  robotType: 'toy',
  stateNames: ['a', 'b'],
  actionNames: ['a', 'b'],
  deltaMask: [true, false],
  cameras: ['head'],
  stats: { state: { mean: [0, 1], std: [1, 2] }, action: { mean: [0.1, 0.2], std: [0.3, 0.4] } },
  imageSize: 32,
  textLength: 8,
  chunkSize: 4,
});

/** A policy and an optimizer that has taken two steps (so its moments are not zero). */
async function trained(seed: number) {
  manualSeed(seed);
  const policy = new InternVLAA1Policy(net);
  const opt = new AdamW(policy.parameters(), { lr: 1e-3 });
  for (let i = 0; i < 2; i++) {
    tidy(() => sum(mul(policy.action_out_proj.weight, policy.action_out_proj.weight)).backward());
    opt.step();
    opt.zeroGrad();
  }
  return { policy, opt };
}

async function save(dir: string, step: number, seed = 1) {
  const { policy, opt } = await trained(seed);
  const path = await saveTrainCheckpoint({
    dir,
    policy,
    processor,
    optimizer: opt,
    state: {
      step,
      samples: 8 * step,
      data: { epoch: 1, batch: 3 },
      dataOrder: '{"seed":7}',
      seed: 7,
      rank: 0,
      worldSize: 1,
      wallMs: 1234,
      config: trainConfig,
    },
  });
  return { path, policy, opt };
}

describe('training checkpoints', () => {
  it('round trip: weights, processor, optimizer moments and state come back exactly; latest names the newest', async () => {
    const dir = join(root, 'roundtrip');
    const { path, policy, opt } = await save(dir, 12);
    expect(await latestCheckpoint(dir)).toBe(path);
    const loaded = await loadTrainCheckpoint(path);
    expect(loaded.state).toMatchObject({
      step: 12,
      samples: 96,
      data: { epoch: 1, batch: 3 },
      seed: 7,
      wallMs: 1234,
    });
    expect(loaded.state.config).toEqual(trainConfig);
    expect(loaded.processor.toJSON()).toEqual(processor.toJSON());
    const w = policy.action_out_proj.weight;
    expect(Array.from(await loaded.policy.action_out_proj.weight.toArray())).toEqual(
      Array.from(await w.toArray()),
    );
    const opt2 = new AdamW(loaded.policy.parameters(), { lr: 1e-3 });
    await loadOptimizerState(path, opt2);
    expect(opt2.stepCount).toBe(2);
    const a = opt.stateDict().tensors;
    const b = opt2.stateDict().tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, t] of a)
      expect(Array.from(await b.get(k)!.toArray()), k).toEqual(Array.from(await t.toArray()));
    for (const x of [policy, loaded.policy, opt, opt2]) x.dispose();
  });

  it('keeps the newest checkpoints, replaces a re-saved step, and removes partial folders of killed saves', async () => {
    const dir = join(root, 'prune');
    mkdirSync(dir, { recursive: true });
    // What a save killed before its rename leaves behind: never named by latest, removed by the next save.
    mkdirSync(join(dir, '.step-00000009.4242.partial'));
    for (const step of [2, 4, 6, 6]) {
      const { policy, opt } = await save(dir, step, step);
      policy.dispose();
      opt.dispose();
    }
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000004', 'step-00000006']);
    expect(readFileSync(join(dir, 'latest'), 'utf8')).toBe('step-00000006\n');
  });

  it('a corpus of damaged checkpoints is refused, each by name', async () => {
    const dir = join(root, 'corpus');
    const { path, policy, opt } = await save(dir, 3);
    policy.dispose();
    opt.dispose();
    const variant = (name: string, damage: (p: string) => void): string => {
      const p = join(root, `bad-${name}`);
      cpSync(path, p, { recursive: true });
      damage(p);
      return p;
    };
    const flip = (file: string, at: number) => {
      const b = readFileSync(file);
      b[at] ^= 0x40;
      writeFileSync(file, b);
    };
    const state = (p: string) =>
      JSON.parse(readFileSync(join(p, 'state.json'), 'utf8')) as Record<string, unknown>;
    const corpus: [string, (p: string) => void, RegExp][] = [
      [
        'truncated-policy',
        (p) => truncateSync(join(p, 'policy.safetensors'), 1000),
        /policy\.safetensors has 1000 bytes, state\.json says \d+ \(truncated/,
      ],
      [
        'flipped-weight',
        (p) => flip(join(p, 'policy.safetensors'), readFileSync(join(p, 'policy.safetensors')).length - 5),
        /policy\.safetensors is corrupted \(SHA-256/,
      ],
      [
        'flipped-moment',
        (p) =>
          flip(join(p, 'optimizer.safetensors'), readFileSync(join(p, 'optimizer.safetensors')).length - 9),
        /optimizer\.safetensors is corrupted/,
      ],
      [
        'no-optimizer',
        (p) => rmSync(join(p, 'optimizer.safetensors')),
        /optimizer\.safetensors cannot be read \(ENOENT\)/,
      ],
      ['no-state', (p) => rmSync(join(p, 'state.json')), /state\.json cannot be read \(ENOENT\)/],
      [
        'torn-state',
        (p) => writeFileSync(join(p, 'state.json'), readFileSync(join(p, 'state.json'), 'utf8').slice(0, 50)),
        /state\.json is not valid JSON/,
      ],
      [
        'future-version',
        (p) => writeFileSync(join(p, 'state.json'), JSON.stringify({ ...state(p), version: 9 })),
        /state\.json has version 9, this trainer reads 1/,
      ],
      [
        'bad-position',
        (p) => writeFileSync(join(p, 'state.json'), JSON.stringify({ ...state(p), data: { epoch: -1 } })),
        /state\.json field data is .*not \{ epoch, batch \}/,
      ],
      [
        'bad-step',
        (p) => writeFileSync(join(p, 'state.json'), JSON.stringify({ ...state(p), step: 'x' })),
        /state\.json field step is "x"/,
      ],
      [
        'no-digest',
        (p) =>
          writeFileSync(
            join(p, 'state.json'),
            JSON.stringify({ ...state(p), files: { policy: { bytes: 1 } } }),
          ),
        /field files\.policy is not \{ bytes, sha256 \}/,
      ],
    ];
    for (const [name, damage, message] of corpus) {
      const p = variant(name, damage);
      const err = await loadTrainCheckpoint(p).then(
        (c) => {
          c.policy.dispose();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(TrainCheckpointError);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message, name).toContain(p);
    }
    // A policy file whose digest matches but whose content is not a checkpoint: the policy loader's
    // error, re-raised as the checkpoint's.
    const forged = variant('forged-policy', (p) => {
      writeFileSync(join(p, 'policy.safetensors'), 'not a safetensors file at all');
      const s = state(p) as { files: { policy: unknown } };
      s.files.policy = {
        bytes: 29,
        sha256: '9b0b1a0d1f0b6b0d6bb4a6a5b8f1b5de7c5e1d6bd1a1a7cf6c2b0f3b26a4d2b8',
      };
      writeFileSync(join(p, 'state.json'), JSON.stringify(s));
    });
    await expect(readTrainState(forged)).rejects.toThrow(/policy\.safetensors is corrupted/);
    // latest naming something that is not a checkpoint
    const junk = join(root, 'junk-latest');
    mkdirSync(junk);
    writeFileSync(join(junk, 'latest'), '../../etc\n');
    await expect(latestCheckpoint(junk)).rejects.toThrow(
      /latest holds "..\/..\/etc\\n", not a checkpoint name/,
    );
    expect(await latestCheckpoint(join(root, 'nowhere'))).toBeNull();
  });
});
