// The InternVLA-A1 joint sequence [understanding | generation | state, actions] as data: ar flags,
// segment ranges, M-RoPE segments and the validity vector built from camera and text masks.
import type { MropeSegment } from '@vla/qwen3-vl';
import type { Flags } from '@vla/mot-attention';

/** `[start, end)` of a segment in the joint sequence. */
export interface SegmentRange {
  start: number;
  end: number;
}

/** Options of {@link internvlaLayout}; defaults are the released 3B model's token budget. */
export interface InternVLALayoutOptions {
  /** Camera views (default 3). */
  views?: number;
  /** Merged image grid per view `[h, w]` (default [8, 8]: 256² pixels, patch 16, 2x2 merge). */
  imageGrid?: readonly [number, number];
  /** Text tokens after the images (default 48). */
  textTokens?: number;
  /** Generation-expert tokens (default 96 = 3 views x 2 frames x 4x4); 0 for the ablation without it. */
  generationTokens?: number;
  /** State tokens (default 1). */
  stateTokens?: number;
  /** Action tokens = chunk size (default 50). */
  actionTokens?: number;
}

/** A laid-out joint sequence. */
export interface InternVLALayout {
  /** Total tokens. */
  length: number;
  /** Block-start flags for the cumulative segment mask. */
  ar: Uint8Array;
  /** Understanding expert's tokens (views, then text). */
  prefix: SegmentRange;
  /** Each view's `<vision_start>`, image tokens, `<vision_end>` inside the prefix. */
  viewRanges: SegmentRange[];
  /** The text tokens inside the prefix. */
  text: SegmentRange;
  /** Generation expert's tokens (empty range when there are none). */
  generation: SegmentRange;
  /** Action expert's tokens (state, then actions). */
  suffix: SegmentRange;
  state: SegmentRange;
  actions: SegmentRange;
  /** Segments for `mropePositions` (@vla/qwen3-vl). */
  rope: MropeSegment[];
  /** The options the layout was built with, defaults filled in. */
  options: Required<InternVLALayoutOptions>;
}

/** ar flags of one block: `[1, 0, ..., 0]` when it starts a new block, all zeros when it does not. */
export function blockAr(length: number, startsBlock: boolean): Uint8Array {
  const ar = new Uint8Array(length);
  if (startsBlock && length > 0) ar[0] = 1;
  return ar;
}

/**
 * Lays out the InternVLA-A1 sequence: prefix ar all 0 (bidirectional), generation `[1, 0, ...]`,
 * state `[1]`, actions `[1, 0, ...]` (see SPEC §1, "Attention mask").
 */
export function internvlaLayout(options: InternVLALayoutOptions = {}): InternVLALayout {
  const o: Required<InternVLALayoutOptions> = {
    views: options.views ?? 3,
    imageGrid: options.imageGrid ?? [8, 8],
    textTokens: options.textTokens ?? 48,
    generationTokens: options.generationTokens ?? 96,
    stateTokens: options.stateTokens ?? 1,
    actionTokens: options.actionTokens ?? 50,
  };
  for (const [k, v] of Object.entries(o)) {
    const vals = Array.isArray(v) ? v : [v];
    if (!vals.every((x) => Number.isInteger(x) && x >= 0))
      throw new Error(`internvlaLayout: ${k} must be a non-negative integer, got ${String(v)}`);
  }
  const [gh, gw] = o.imageGrid;
  const perView = gh * gw + 2;
  const viewRanges = Array.from({ length: o.views }, (_, v) => ({
    start: v * perView,
    end: (v + 1) * perView,
  }));
  const text = { start: o.views * perView, end: o.views * perView + o.textTokens };
  const prefix = { start: 0, end: text.end };
  const generation = { start: prefix.end, end: prefix.end + o.generationTokens };
  const state = { start: generation.end, end: generation.end + o.stateTokens };
  const actions = { start: state.end, end: state.end + o.actionTokens };
  const suffix = { start: state.start, end: actions.end };
  const ar = new Uint8Array(actions.end);
  ar.set(blockAr(o.generationTokens, true), generation.start);
  ar.set(blockAr(o.stateTokens, true), state.start);
  ar.set(blockAr(o.actionTokens, true), actions.start);
  const rope: MropeSegment[] = [];
  for (let v = 0; v < o.views; v++) {
    rope.push({ kind: 'text', length: 1 }, { kind: 'image', grid: [1, gh, gw] }, { kind: 'text', length: 1 });
  }
  // Text and everything after the prefix continue with 1-D positions.
  rope.push({ kind: 'text', length: actions.end - text.start });
  return {
    length: actions.end,
    ar,
    prefix,
    viewRanges,
    text,
    generation,
    suffix,
    state,
    actions,
    rope,
    options: o,
  };
}

/** Masks of one sample for {@link internvlaValid}. */
export interface InternVLAValidInput {
  /** Per view: false for a missing camera (all of its prefix tokens become padding). */
  views: readonly boolean[];
  /** Text attention mask, one flag per text token (right padding is 0). */
  text: Flags;
  /** Per view for the generation tokens (default `views`); its tokens are view-major. */
  generationViews?: readonly boolean[];
}

/** The validity vector of one sample (1 = real token). State and action tokens are always valid. */
export function internvlaValid(layout: InternVLALayout, input: InternVLAValidInput): Uint8Array {
  const { views } = layout.options;
  if (input.views.length !== views)
    throw new Error(`internvlaValid: ${input.views.length} view flags for ${views} views`);
  const textLen = layout.text.end - layout.text.start;
  if (input.text.length !== textLen)
    throw new Error(`internvlaValid: text mask has length ${input.text.length}, expected ${textLen}`);
  const genViews = input.generationViews ?? input.views;
  if (genViews.length !== views)
    throw new Error(`internvlaValid: ${genViews.length} generation view flags for ${views} views`);
  const genLen = layout.generation.end - layout.generation.start;
  if (genLen % Math.max(views, 1) !== 0)
    throw new Error(`internvlaValid: ${genLen} generation tokens do not split over ${views} views`);
  const valid = new Uint8Array(layout.length);
  layout.viewRanges.forEach((r, v) => valid.fill(input.views[v] ? 1 : 0, r.start, r.end));
  for (let j = 0; j < textLen; j++) valid[layout.text.start + j] = input.text[j] ? 1 : 0;
  const perView = genLen / Math.max(views, 1);
  for (let v = 0; v < views; v++) {
    const s = layout.generation.start + v * perView;
    valid.fill(genViews[v] ? 1 : 0, s, s + perView);
  }
  valid.fill(1, layout.suffix.start, layout.suffix.end);
  return valid;
}
