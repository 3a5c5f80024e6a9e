// Pretrained tokenizer weights into a new policy (see pretrainTokenizer): a missing file, another
// architecture or a policy without the generation expert is an error naming the file.
import type { InternVLAA1Policy } from '@vla/internvla-a1';
import { loadSafetensors, type Tensor } from '@vla/tensor-webgpu';

/** Loads a `vla-train-tokenizer` weights file into `policy.cosmos` (in place). */
export async function loadTokenizerWeights(policy: InternVLAA1Policy, path: string): Promise<void> {
  if (policy.config.generation === null)
    throw new Error(
      `model.tokenizer (${path}): the policy has no generation expert, so it has no image tokenizer`,
    );
  let weights: Map<string, Tensor>;
  try {
    weights = await loadSafetensors(path);
  } catch (e) {
    throw new Error(`model.tokenizer: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await policy.cosmos.loadStateDict(weights);
  } catch (e) {
    throw new Error(
      `model.tokenizer: ${path} does not fit the ${policy.config.name} tokenizer: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}
