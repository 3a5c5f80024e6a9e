import type { Embodiment } from '@vla/robot-core';
import type { WriterFeatureSpec } from '@vla/lerobot';

/** One InternData-A1 vector feature: its key suffix and the embodiment dims it holds, in order. */
export interface DatasetPart {
  /** e.g. `left_joint`, `left_gripper`. */
  readonly part: string;
  /** Embodiment dim indices. */
  readonly dims: readonly number[];
}

/**
 * The InternData-A1 parts of an embodiment (SPEC §2), in the order the policy's mapping concatenates
 * them: `left_joint, left_gripper, right_joint, right_gripper` for the ARX robots,
 * `left_joint, right_joint, left_gripper, right_gripper` for Genie-1. Built from the dim names, so
 * the layout comes from the embodiment.
 */
export function datasetParts(e: Embodiment): DatasetPart[] {
  const of = (side: string, kind: 'joint' | 'gripper') =>
    e.dims.flatMap((d, i) => (d.name.startsWith(`${side}_`) && d.kind === kind ? [i] : []));
  const parts = ['left', 'right'].flatMap((s) => [
    { part: `${s}_joint`, dims: of(s, 'joint') },
    { part: `${s}_gripper`, dims: of(s, 'gripper') },
  ]);
  // Concatenated in layout order, so the dataset's state vector equals the embodiment's.
  return parts.sort((a, b) => a.dims[0] - b.dims[0]);
}

/** Writer features for an embodiment: `states.*.position`, `actions.*.position`, `images.rgb.*`. */
export function datasetFeatures(
  e: Embodiment,
  width: number,
  height: number,
): Record<string, WriterFeatureSpec> {
  const f: Record<string, WriterFeatureSpec> = {};
  for (const prefix of ['states', 'actions'])
    for (const p of datasetParts(e))
      f[`${prefix}.${p.part}.position`] = {
        dtype: 'float32',
        shape: [p.dims.length],
        names: p.dims.map((i) => e.dims[i].name),
      };
  for (const c of e.cameras)
    f[`images.rgb.${c.name}`] = {
      dtype: 'video',
      shape: [height, width, 3],
      names: ['height', 'width', 'channels'],
    };
  return f;
}
