import { describe, expect, it } from 'vitest';
import { meta } from '@vla/tensor-webgpu';
import { COSMOS_CI8X8, COSMOS_TINY, CosmosImageTokenizer, validateTokenizerConfig } from '../src/index.js';

// Counts written out from the SPEC's channel plan (conv: in·out·k² + out; GroupNorm: 2C).
function resBlock(i: number, o: number): number {
  return 2 * i + (i * o * 9 + o) + 2 * o + (o * o * 9 + o) + (i !== o ? i * o + o : 0);
}
const attn = (c: number) => 2 * c + 4 * (c * c + c);
const conv = (i: number, o: number, k: number) => i * o * k * k + o;

describe('CI8x8 parameters (meta-built, no allocation)', () => {
  const model = meta(() => new CosmosImageTokenizer(COSMOS_CI8X8));
  const specs = new Map(model.namedSpecs());

  it('has the SPEC encoder/decoder sizes (≈31.2M / ≈45.6M)', () => {
    const encoder =
      conv(48, 128, 3) +
      resBlock(128, 256) +
      resBlock(256, 256) +
      conv(256, 256, 3) +
      resBlock(256, 512) +
      resBlock(512, 512) +
      2 * resBlock(512, 512) +
      2 * resBlock(512, 512) +
      attn(512) +
      2 * 512 +
      conv(512, 16, 3) +
      conv(16, 16, 1);
    const decoder =
      conv(16, 16, 1) +
      conv(16, 512, 3) +
      2 * resBlock(512, 512) +
      attn(512) +
      3 * resBlock(512, 512) +
      conv(512, 512, 3) +
      3 * resBlock(512, 512) +
      resBlock(512, 256) +
      2 * resBlock(256, 256) +
      2 * 256 +
      conv(256, 48, 3);
    expect(model.numEncoderParameters()).toBe(encoder);
    expect(model.numDecoderParameters()).toBe(decoder);
    expect(encoder).toBe(31_153_824);
    expect(decoder).toBe(45_635_648);
    expect(model.numParameters()).toBe(encoder + decoder);
  });

  it('uses the upstream state-dict names and shapes', () => {
    const shapes: Record<string, number[]> = {
      'encoder.conv_in.weight': [128, 48, 3, 3],
      'encoder.down.0.block.0.nin_shortcut.weight': [256, 128, 1, 1],
      'encoder.down.0.block.1.conv2.weight': [256, 256, 3, 3],
      'encoder.down.0.downsample.conv.weight': [256, 256, 3, 3],
      'encoder.down.1.block.0.norm1.weight': [256],
      'encoder.down.2.block.1.conv1.bias': [512],
      'encoder.mid.block_1.norm1.bias': [512],
      'encoder.mid.attn_1.q.weight': [512, 512, 1, 1],
      'encoder.mid.attn_1.proj_out.bias': [512],
      'encoder.mid.block_2.conv2.weight': [512, 512, 3, 3],
      'encoder.norm_out.weight': [512],
      'encoder.conv_out.weight': [16, 512, 3, 3],
      'quant_conv.weight': [16, 16, 1, 1],
      'post_quant_conv.weight': [16, 16, 1, 1],
      'decoder.conv_in.weight': [512, 16, 3, 3],
      'decoder.mid.attn_1.norm.weight': [512],
      'decoder.up.2.block.2.conv1.weight': [512, 512, 3, 3],
      'decoder.up.2.upsample.conv.weight': [512, 512, 3, 3],
      'decoder.up.0.block.0.nin_shortcut.weight': [256, 512, 1, 1],
      'decoder.up.0.block.2.norm2.weight': [256],
      'decoder.norm_out.bias': [256],
      'decoder.conv_out.weight': [48, 256, 3, 3],
    };
    for (const [k, s] of Object.entries(shapes)) {
      expect(specs.get(k)?.shape, k).toEqual(s);
    }
    const names = [...specs.keys()];
    for (const absent of ['encoder.down.1.downsample.conv.weight', 'encoder.down.2.downsample.conv.weight', 'decoder.up.1.upsample.conv.weight', 'decoder.up.0.upsample.conv.weight', 'encoder.down.1.block.1.nin_shortcut.weight', 'decoder.up.1.block.0.nin_shortcut.weight']) {
      expect(names).not.toContain(absent);
    }
    expect(names.filter((n) => n.startsWith('decoder.up.1.block.')).length).toBe(3 * 8);
    for (const n of names) expect(n).toMatch(/^(encoder|decoder|quant_conv|post_quant_conv)\./);
  });

  it('builds the tiny configuration and validates configs', () => {
    const tiny = meta(() => new CosmosImageTokenizer(COSMOS_TINY));
    expect(tiny.numParameters()).toBeLessThan(200_000);
    expect(tiny.compression).toBe(8);
    expect(() => validateTokenizerConfig({ ...COSMOS_TINY, groups: 3 })).toThrow(/not divisible by groups 3/);
    expect(() => validateTokenizerConfig({ ...COSMOS_TINY, numDownsamples: 3 })).toThrow(/numDownsamples/);
  });
});
