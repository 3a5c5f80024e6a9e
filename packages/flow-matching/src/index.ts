/**
 * Flow matching in the openpi convention, generic over the velocity network: Beta time sampling,
 * the linear noise path and its target, the MSE objective, the sine-cosine time embedding, the
 * action/time MLP and an Euler sampler.
 * @packageDocumentation
 */
export { sampleTime } from './timeSampling.js';
export type { TimeSamplingOptions } from './timeSampling.js';
export type { TimeInput } from './timeArgument.js';
export { noisyPath } from './noisyPath.js';
export type { NoisyPath } from './noisyPath.js';
export { flowMatchingLoss } from './flowMatchingLoss.js';
export type { FlowMatchingLossOptions } from './flowMatchingLoss.js';
export { sinusoidalTimeEmbedding, timePeriods } from './timeEmbedding.js';
export type { TimeEmbeddingOptions } from './timeEmbedding.js';
export { ActionTimeMlp, actionTimeTokens } from './actionTimeMlp.js';
export type { ActionTimeLayers, ActionTimeMlpOptions } from './actionTimeMlp.js';
export { eulerSample } from './eulerSample.js';
export type { EulerOptions, VelocityFn } from './eulerSample.js';
export { RTC_SCHEDULES, guidedVelocity, rtcGuidanceWeight, rtcPrefixWeights } from './rtcGuidance.js';
export type { RtcSchedule, SamplerGuidance } from './rtcGuidance.js';
