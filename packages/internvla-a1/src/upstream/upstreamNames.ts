// Upstream (InternVLA-A1 `QwenA1Policy.state_dict()`) tensor names vs this package's parameter names.
// One table of prefix pairs serves both directions; what upstream stores but the policy does not use
// is classified as skipped, with the reason, so nothing is dropped silently.
import { isIgnoredCosmosKey } from '@vla/vae';

/** One prefix pair: `upstream + rest` ↔ `ours + rest`, for the `rest` that `rest` accepts. */
interface PrefixRule {
  upstream: string;
  ours: string;
  /** Which remainders the rule covers (both Cosmos halves map to the one `cosmos.` module). */
  rest?: RegExp;
}

const QWEN = 'model.qwen3_vl_with_expert.';
const UND = `${QWEN}und_expert.`;

/** Heads and projections of the policy itself, registered flat under upstream's names. */
const POLICY_HEADS = [
  'cosmos_in_proj',
  'downsample_conv',
  'upsample_conv',
  'cosmos_out_layer_norm',
  'cosmos_out_proj',
  'state_proj',
  'action_in_proj',
  'action_out_proj',
  'action_time_mlp_in',
  'action_time_mlp_out',
] as const;

/** The mapping, in one place. Order does not matter: the prefixes do not overlap. */
const RULES: readonly PrefixRule[] = [
  { upstream: `${UND}model.visual.`, ours: 'und_expert.visual.' },
  { upstream: `${UND}model.language_model.`, ours: 'und_expert.language_model.' },
  { upstream: `${QWEN}gen_expert.`, ours: 'gen_expert.' },
  { upstream: `${QWEN}act_expert.`, ours: 'act_expert.' },
  // Upstream wraps the tokenizer's two TorchScript halves; ours is one module.
  { upstream: 'model.cosmos._enc_model.', ours: 'cosmos.', rest: /^(encoder|quant_conv)\./ },
  { upstream: 'model.cosmos._dec_model.', ours: 'cosmos.', rest: /^(decoder|post_quant_conv)\./ },
  ...POLICY_HEADS.map((h) => ({ upstream: `model.${h}.`, ours: `${h}.` })),
];

/** Upstream's language-model head; tied to the token embedding, so it carries the same values. */
export const UPSTREAM_LM_HEAD = `${UND}lm_head.weight`;
/** Our token embedding (what {@link UPSTREAM_LM_HEAD} stands in for when a file holds only it). */
export const EMBED_TOKENS = 'und_expert.language_model.embed_tokens.weight';

/** Upstream keys that are stored but deliberately not imported, with why. */
const SKIPPED: readonly { test: (key: string) => boolean; reason: string }[] = [
  {
    test: (k) => k === UPSTREAM_LM_HEAD,
    reason: 'tied to und_expert.language_model.embed_tokens.weight (same values)',
  },
  {
    test: (k) => k.startsWith(`${UND}model.visual.deepstack_merger_list.`),
    reason: 'DeepStack merger: computed upstream but its features are discarded by embed_prefix',
  },
  {
    test: (k) => k.startsWith('model.cosmos.') && isIgnoredCosmosKey(k),
    reason: "constant Haar patcher buffer, not a learned weight (rebuilt by the tokenizer's patcher)",
  },
];

/** What an upstream key becomes. */
export type UpstreamKeyClass =
  | { kind: 'mapped'; upstream: string; name: string }
  | { kind: 'skipped'; upstream: string; reason: string }
  | { kind: 'unknown'; upstream: string };

/**
 * Classifies one upstream key: mapped to our parameter name, skipped on purpose (with the reason),
 * or unknown (a key this importer does not understand; importing must fail on it).
 */
export function classifyUpstreamKey(key: string): UpstreamKeyClass {
  for (const s of SKIPPED) if (s.test(key)) return { kind: 'skipped', upstream: key, reason: s.reason };
  const name = upstreamToVlaName(key);
  return name === null ? { kind: 'unknown', upstream: key } : { kind: 'mapped', upstream: key, name };
}

function rewrite(key: string, from: 'upstream' | 'ours'): string | null {
  const to = from === 'upstream' ? 'ours' : 'upstream';
  for (const r of RULES) {
    const prefix = r[from];
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest.length === 0 || (r.rest && !r.rest.test(rest))) continue;
    return r[to] + rest;
  }
  return null;
}

/** Our parameter name for an upstream key, or null when no rule maps it (skipped keys included). */
export function upstreamToVlaName(key: string): string | null {
  return rewrite(key, 'upstream');
}

/** The upstream key of one of our parameter names, or null when upstream has no such tensor. */
export function vlaToUpstreamName(name: string): string | null {
  return rewrite(name, 'ours');
}
