// Hugging Face Qwen3-VL weights (e.g. Qwen3-VL-2B-Instruct) into the policy's understanding expert, so
// training starts from the pretrained VLM. Key rules are qwen3-vl's (hfKeyToLocal); this file only
// places them under `und_expert.` and checks the whole expert is covered before anything is loaded.
import { canLoadAs, SafetensorsError, tensorFromSafetensors } from '@vla/tensor-webgpu';
import { hfKeyToLocal } from '@vla/qwen3-vl';
import type { InternVLAA1Policy } from '../internvlaA1Policy.js';
import { openShards, type OpenedShards } from './upstreamFiles.js';
import { listShort, UpstreamImportError } from './upstreamImportError.js';
import { EMBED_TOKENS } from './upstreamNames.js';

/** The prefix of the understanding expert's parameters in the policy. */
export const UND_EXPERT_PREFIX = 'und_expert.';

/** What {@link loadQwen3VLWeights} loaded and left out. */
export interface Qwen3VLLoadReport {
  /** Policy parameters loaded, by HF key. */
  loaded: { hf: string; name: string }[];
  /** HF keys not loaded (tied head, DeepStack mergers). */
  skipped: string[];
}

/**
 * Loads HF Qwen3-VL safetensors (`sources`: directories, index jsons or files; `model.visual.*`,
 * `model.language_model.*`, optional `lm_head.weight`) into `policy`'s understanding expert. Every
 * `und_expert.*` parameter must be covered once with its shape (the embedding may come from
 * `lm_head.weight` when a file keeps only the head); DeepStack mergers and a tied head are skipped.
 * All of this is checked from the headers before the first tensor is loaded. Throws
 * {@link UpstreamImportError} naming the file and key.
 */
export async function loadQwen3VLWeights(
  policy: InternVLAA1Policy,
  sources: string | readonly string[],
): Promise<Qwen3VLLoadReport> {
  const list = typeof sources === 'string' ? [sources] : sources;
  const opened: OpenedShards[] = [];
  try {
    for (const s of list) opened.push(await openShards(s));
    const where = list.join(' + ');
    const specs = new Map(policy.namedSpecs().filter(([n]) => n.startsWith(UND_EXPERT_PREFIX)));
    const plan = new Map<string, { hf: string; shards: OpenedShards }>();
    const skipped: string[] = [];
    let head: { hf: string; shards: OpenedShards } | null = null;
    const unknown: string[] = [];
    for (const shards of opened) {
      for (const key of shards.tensors.keys()) {
        let local: string | null;
        try {
          local = hfKeyToLocal(key);
        } catch {
          unknown.push(key);
          continue;
        }
        if (local === null) {
          if (key === 'lm_head.weight') head = { hf: key, shards };
          skipped.push(key);
          continue;
        }
        const name = UND_EXPERT_PREFIX + local;
        const prior = plan.get(name);
        if (prior) throw new UpstreamImportError(where, `${prior.hf} and ${key} both map to ${name}`);
        plan.set(name, { hf: key, shards });
      }
    }
    if (unknown.length) throw new UpstreamImportError(where, `not Qwen3-VL keys: ${listShort(unknown)}`);
    if (!plan.has(EMBED_TOKENS) && head) {
      plan.set(EMBED_TOKENS, head);
      skipped.splice(skipped.indexOf(head.hf), 1);
    }
    const missing = [...specs.keys()].filter((n) => !plan.has(n));
    const extra = [...plan.keys()].filter((n) => !specs.has(n));
    if (missing.length) throw new UpstreamImportError(where, `missing tensors: ${listShort(missing)}`);
    if (extra.length)
      throw new UpstreamImportError(
        where,
        `tensors the understanding expert does not have: ${listShort(extra.map((n) => `${plan.get(n)!.hf} → ${n}`))}`,
      );
    for (const [name, { hf, shards }] of plan) {
      const { entry, file } = shards.tensors.get(hf)!;
      const spec = specs.get(name)!;
      if (entry.shape.join() !== spec.shape.join())
        throw new UpstreamImportError(
          file.source,
          `${hf} is [${entry.shape.join(', ')}] but ${name} is [${spec.shape.join(', ')}]`,
        );
      if (!canLoadAs(entry.dtype, spec.dtype))
        throw new UpstreamImportError(
          file.source,
          `${hf} is ${entry.dtype}, which ${name} (${spec.dtype}) cannot take`,
        );
    }
    const loaded: Qwen3VLLoadReport['loaded'] = [];
    for (const [name, { hf, shards }] of plan) {
      const { entry, file } = shards.tensors.get(hf)!;
      let value;
      try {
        value = tensorFromSafetensors(entry, await entry.data(), specs.get(name)!.dtype, {
          source: file.source,
        });
      } catch (e) {
        if (e instanceof SafetensorsError) throw new UpstreamImportError(file.source, e.problem);
        throw e;
      }
      try {
        await policy.loadStateDict(new Map([[name, value]]), { strict: false });
      } finally {
        value.dispose();
      }
      loaded.push({ hf, name });
    }
    return { loaded, skipped };
  } finally {
    for (const o of opened) await o.close();
  }
}
