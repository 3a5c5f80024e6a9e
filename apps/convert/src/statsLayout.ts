// Which upstream statistics form the processor's state and action vectors. Upstream's stats.json is
// keyed by dataset feature; @vla/lerobot's robot mapping (the same one training uses) decides, from
// the feature keys and the robot type, which features concatenate into state and action and which
// action dims are deltas. Only the statistics file is needed, not the dataset.
import type { UpstreamProcessorLayout } from '@vla/internvla-a1';
import { CAMERA_SLOTS, resolveRobotMapping, type DatasetInfo, type FeatureSpec } from '@vla/lerobot';

/** Image features have per-channel stats; their keys name them. */
const IMAGE_KEY = /(^|\.)images?\./;

/**
 * The processor layout for upstream statistics: the robot mapping @vla/lerobot resolves from the
 * stats' feature keys and `robotType` (InternData-A1, AgiBot-World or generic LeRobot keys), cameras
 * in the policy's view order. Throws an Error naming the feature when the mapping needs a feature the
 * statistics do not have.
 */
export function layoutFromStats(
  stats: Record<string, unknown>,
  views: number,
  robotType: string | null,
): UpstreamProcessorLayout {
  const features: Record<string, FeatureSpec> = {};
  for (const [key, s] of Object.entries(stats)) {
    const mean = (s as { mean?: unknown } | null)?.mean;
    if (!Array.isArray(mean)) continue;
    features[key] = IMAGE_KEY.test(key)
      ? { dtype: 'video', shape: [1, 1, 3] }
      : { dtype: 'float32', shape: [mean.flat(2).length] };
  }
  // Only the fields the mapping reads; the rest of a dataset's info does not exist here.
  const info = { robotType, features } as unknown as DatasetInfo;
  let mapping;
  try {
    mapping = resolveRobotMapping(info);
  } catch (e) {
    // The mapping speaks of info.json; here its features are the statistics' keys.
    throw new Error((e as Error).message.replace('meta/info.json', 'the statistics'));
  }
  if (views > CAMERA_SLOTS.length)
    throw new Error(`the policy has ${views} views but datasets feed at most ${CAMERA_SLOTS.length}`);
  return {
    robotType: mapping.robot !== 'generic' ? mapping.robot : (robotType ?? 'generic'),
    stateKeys: mapping.stateKeys,
    actionKeys: mapping.actionKeys,
    deltaMask: mapping.deltaMask,
    cameras: CAMERA_SLOTS.slice(0, views),
  };
}
