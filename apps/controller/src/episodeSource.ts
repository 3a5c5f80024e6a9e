import type { Foresight, PolicyService } from '@vla/policy-runtime';
import type { ActionSource, Observation } from '@vla/robot-core';

/**
 * One episode's policy, as the run loop sees it: the chunk source, the hook that receives every
 * control tick's observation (for a policy that reads past frames), the timing of its last answer and
 * a close. policy-runtime's `PolicyEpisode` and openpi's `ServerEpisode` have this shape.
 */
export interface EpisodeSource {
  /** Answers the executor's chunk requests. */
  readonly source: ActionSource;
  /** Receives every tick's observation (wired as the executor's `onObservation`). */
  observe?(observation: Observation): void;
  /** Timing of the last answered request, where the source measures it. */
  readonly lastTiming?: { readonly inferMs: number } | undefined;
  /** Ends the episode; later requests are rejected. */
  close(): void;
}

/** Opens a fresh {@link EpisodeSource} (its own observation history) for each episode. */
export type OpenEpisode = () => EpisodeSource;

/**
 * Episodes of a local policy: each a new episode of policy-runtime's `PolicyService` (its own
 * observation history for the frames t − 15 and its own RTC state; concurrent episodes batch on the GPU).
 */
export function serviceEpisodes(service: PolicyService, onForesight?: (f: Foresight) => void): OpenEpisode {
  return () => service.openEpisode(onForesight ? { onForesight } : {});
}

/** Episodes that all ask one stateless source (e.g. a remote openpi server). */
export function sharedEpisodes(source: ActionSource): OpenEpisode {
  return () => ({ source, close: () => undefined });
}
