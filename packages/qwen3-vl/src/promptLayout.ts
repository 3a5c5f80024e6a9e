// The understanding prefix of InternVLA-A1: for each camera view `<|vision_start|>` + one
// `<|image_pad|>` per merged image token + `<|vision_end|>`, then the task text right-padded or
// truncated to a fixed length. A missing camera keeps its slots (fixed shapes) but all its tokens are
// padding; so are the text pads. Every prefix token has ar = 0 (bidirectional).
import { mropePositions, type MropeIds, type MropeSegment } from './mropePositions.js';
import { QWEN3_PAD_ID, QWEN3_SPECIAL_IDS, type TextTokenizer } from './tokenizer.js';

/** Sizes of the prefix. */
export interface PrefixLayoutOptions {
  /** Merged image tokens per view (64 for 256x256 with patch 16 and 2x2 merge). */
  imageTokens?: number;
  /** Text tokens after the images (48 upstream). */
  maxTextTokens?: number;
}

/** One prefix (per sample). */
export interface PrefixLayout {
  /** Token ids, length `views * (imageTokens + 2) + maxTextTokens` (246 for 3 views). */
  ids: Int32Array;
  /** 1 = real token, 0 = padding (missing camera or text padding). */
  valid: Uint8Array;
  /** Autoregressive flags: all 0 in the prefix (bidirectional among itself). */
  ar: Uint8Array;
  /** 1 where the token is an `<|image_pad|>` whose embedding is replaced by a vision token. */
  isImage: Uint8Array;
  /** Index in `ids` of the first image token of each view. */
  imageStart: number[];
  /** Index in `ids` of the first text token. */
  textStart: number;
  /** Number of real (non-padding) text tokens. */
  textLength: number;
}

/**
 * Builds the prefix from already tokenized task text. `cameras[v]` says whether view v has an image.
 * Text longer than `maxTextTokens` is truncated (right), shorter is right-padded with `<|endoftext|>`.
 */
export function buildPrefixLayout(
  textIds: readonly number[],
  cameras: readonly boolean[],
  options: PrefixLayoutOptions = {},
): PrefixLayout {
  const imageTokens = options.imageTokens ?? 64;
  const maxText = options.maxTextTokens ?? 48;
  if (!Number.isInteger(imageTokens) || imageTokens < 1)
    throw new Error(`buildPrefixLayout: imageTokens must be a positive integer, got ${imageTokens}`);
  if (!Number.isInteger(maxText) || maxText < 0)
    throw new Error(`buildPrefixLayout: maxTextTokens must be a non-negative integer, got ${maxText}`);
  if (cameras.length === 0) throw new Error('buildPrefixLayout: at least one camera view is required');
  const length = cameras.length * (imageTokens + 2) + maxText;
  const ids = new Int32Array(length);
  const valid = new Uint8Array(length);
  const isImage = new Uint8Array(length);
  const imageStart: number[] = [];
  let p = 0;
  for (const present of cameras) {
    const v = present ? 1 : 0;
    ids[p] = QWEN3_SPECIAL_IDS.visionStart;
    valid[p++] = v;
    imageStart.push(p);
    for (let i = 0; i < imageTokens; i++) {
      ids[p] = QWEN3_SPECIAL_IDS.imagePad;
      isImage[p] = 1;
      valid[p++] = v;
    }
    ids[p] = QWEN3_SPECIAL_IDS.visionEnd;
    valid[p++] = v;
  }
  const textStart = p;
  const textLength = Math.min(textIds.length, maxText);
  for (let i = 0; i < maxText; i++) {
    if (i < textLength) {
      const id = textIds[i];
      if (!Number.isInteger(id) || id < 0)
        throw new Error(`buildPrefixLayout: invalid text token id ${id} at ${i}`);
      ids[p] = id;
      valid[p] = 1;
    } else {
      ids[p] = QWEN3_PAD_ID;
    }
    p++;
  }
  return { ids, valid, ar: new Uint8Array(length), isImage, imageStart, textStart, textLength };
}

/** Tokenizes `task` and builds its prefix (see {@link buildPrefixLayout}). */
export function buildPrefix(
  tokenizer: TextTokenizer,
  task: string,
  cameras: readonly boolean[],
  options: PrefixLayoutOptions = {},
): PrefixLayout {
  return buildPrefixLayout(tokenizer.encode(task), cameras, options);
}

/**
 * The prefix as M-RoPE segments for `@vla/mot-attention`'s `mropePositions`: per view one text token
 * (`<|vision_start|>`), the merged image grid, one text token (`<|vision_end|>`); then the text.
 * With `valid: layout.valid`, missing cameras and text padding are skipped as HF `get_rope_index` does.
 */
export function prefixSegments(layout: PrefixLayout, grid: { h: number; w: number }): MropeSegment[] {
  const perImage = grid.h * grid.w;
  const segments: MropeSegment[] = [];
  for (const start of layout.imageStart) {
    for (let i = 0; i < perImage; i++) {
      if (!layout.isImage[start + i])
        throw new Error(`prefixSegments: the layout has fewer than ${perImage} image tokens at ${start}`);
    }
    segments.push(
      { kind: 'text', length: 1 },
      { kind: 'image', grid: [1, grid.h, grid.w] },
      { kind: 'text', length: 1 },
    );
  }
  segments.push({ kind: 'text', length: layout.ids.length - layout.textStart });
  const total = segments.reduce(
    (n, s) => n + (s.kind === 'text' ? s.length : s.grid[0] * s.grid[1] * s.grid[2]),
    0,
  );
  if (total !== layout.ids.length)
    throw new Error(`prefixSegments: grid ${grid.h}x${grid.w} does not match the layout's image tokens`);
  return segments;
}

/** M-RoPE position ids `[t, h, w]` of a prefix (HF `get_rope_index` over its valid tokens; padding = 1). */
export function prefixPositions(layout: PrefixLayout, grid: { h: number; w: number }): MropeIds {
  return mropePositions(prefixSegments(layout, grid), { valid: layout.valid });
}
