// Parameter names of HF Qwen3-VL checkpoints vs this package's module keys. HF stores
// `model.visual.*`, `model.language_model.*` and (untied models only) `lm_head.weight`; older exports
// use `visual.*` and `model.*` for the text model. Module keys are the same minus the `model.` prefix.

/** Options of {@link hfKeyToLocal}. */
export interface HfKeyOptions {
  /** A prefix to strip first (e.g. the und-expert path inside a policy checkpoint). */
  stripPrefix?: string;
  /** Keep DeepStack merger weights (only when the model was built with `deepstackVisualIndexes`). */
  keepDeepstack?: boolean;
}

/**
 * Maps an HF checkpoint key to this package's module key, or null for keys that carry nothing this
 * model uses: `lm_head.weight` (tied to the embeddings) and DeepStack mergers (unless kept).
 * Throws for keys it does not recognise.
 */
export function hfKeyToLocal(key: string, options: HfKeyOptions = {}): string | null {
  let k = key;
  if (options.stripPrefix) {
    if (!k.startsWith(options.stripPrefix))
      throw new Error(`hfKeyToLocal: key ${key} does not start with ${options.stripPrefix}`);
    k = k.slice(options.stripPrefix.length);
  }
  if (k === 'lm_head.weight') return null;
  let local: string;
  if (k.startsWith('model.visual.')) local = 'visual.' + k.slice('model.visual.'.length);
  else if (k.startsWith('visual.')) local = k;
  else if (k.startsWith('model.language_model.'))
    local = 'language_model.' + k.slice('model.language_model.'.length);
  else if (k.startsWith('model.')) local = 'language_model.' + k.slice('model.'.length);
  else throw new Error(`hfKeyToLocal: unrecognised Qwen3-VL checkpoint key ${key}`);
  if (!options.keepDeepstack && local.startsWith('visual.deepstack_merger_list.')) return null;
  return local;
}

/** The canonical HF key (current `model.visual.*` / `model.language_model.*` layout) of a module key. */
export function localKeyToHf(key: string): string {
  if (key.startsWith('visual.')) return 'model.' + key;
  if (key.startsWith('language_model.')) return 'model.' + key;
  throw new Error(`localKeyToHf: ${key} is not a key of Qwen3VLModel`);
}

/**
 * Renames an HF state dict to module keys, dropping what {@link hfKeyToLocal} drops. The returned map
 * shares the tensors (no copies); dropped tensors are returned separately so callers can dispose them.
 */
export function convertHfStateDict<T>(
  state: Map<string, T> | Record<string, T>,
  options: HfKeyOptions = {},
): { state: Map<string, T>; dropped: Map<string, T> } {
  const entries = state instanceof Map ? [...state] : Object.entries(state);
  const out = new Map<string, T>();
  const dropped = new Map<string, T>();
  for (const [k, v] of entries) {
    const local = hfKeyToLocal(k, options);
    if (local === null) {
      dropped.set(k, v);
      continue;
    }
    if (out.has(local))
      throw new Error(`convertHfStateDict: ${k} maps to ${local}, which another key already produced`);
    out.set(local, v);
  }
  return { state: out, dropped };
}
