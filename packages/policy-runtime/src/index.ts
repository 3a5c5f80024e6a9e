/**
 * @vla/policy-runtime — run a trained InternVLA-A1 checkpoint as robot-core's `ActionSource`: the
 * observation history that supplies the frames t−15 the generation expert reads, and the glue from
 * a `ChunkRequest` through the checkpoint's `PolicyProcessor` and the policy to an absolute chunk.
 * @packageDocumentation
 */
export { ObservationHistory, PAST_FRAME_OFFSET } from './observationHistory.js';
export {
  policyActionSource,
  type ForesightListener,
  type PolicyActionSourceOptions,
} from './policyActionSource.js';
export {
  loadPolicySource,
  type LoadPolicySourceOptions,
  type LoadedPolicySource,
} from './loadPolicySource.js';
export { PolicyRuntimeError } from './policyRuntimeError.js';
export {
  PolicyService,
  type Foresight,
  type OpenEpisodeOptions,
  type PolicyEpisode,
  type PolicyServiceOptions,
  type PolicyServiceStats,
  type RequestTiming,
  type RtcOptions,
} from './policyService.js';
export {
  loadPolicyService,
  type LoadPolicyServiceOptions,
  type LoadedPolicyService,
} from './loadPolicyService.js';
