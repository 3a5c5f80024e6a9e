import {
  loadPolicyBundle,
  readPolicyProcessor,
  type InternVLAA1Policy,
  type LoadPolicyOptions,
  type PolicyProcessor,
} from '@vla/internvla-a1';
import type { ByteSourceInput } from '@vla/tensor-webgpu';
import { PolicyRuntimeError } from './policyRuntimeError.js';

/**
 * Loads a checkpoint that carries its processor and hands both to `serve`. A checkpoint without a
 * processor is refused before any weight is loaded (a {@link PolicyRuntimeError} naming the file and
 * `caller`); when `serve` throws, the weights are freed. @internal
 */
export async function loadBundleFor<T>(
  caller: string,
  path: ByteSourceInput,
  options: LoadPolicyOptions,
  serve: (policy: InternVLAA1Policy, processor: PolicyProcessor) => T,
): Promise<T> {
  const name =
    typeof path === 'string'
      ? path
      : typeof File !== 'undefined' && path instanceof File
        ? path.name
        : '<bytes>';
  if ((await readPolicyProcessor(path)) === null)
    throw new PolicyRuntimeError(
      `${caller}: ${name} was saved without a processor: train with vla-train or pass savePolicy(..., { processor })`,
    );
  // Extra (serving) fields of the options are ignored by the loader.
  const { policy, processor } = await loadPolicyBundle(path, options);
  try {
    // Read again from the same file above, so it cannot be missing; checked for the type.
    if (!processor) throw new PolicyRuntimeError(`${caller}: ${name} has no processor`);
    return serve(policy, processor);
  } catch (err) {
    policy.dispose();
    throw err;
  }
}
