import type { Embodiment } from '@vla/robot-core';
import { ACONE, LIFT2 } from '@vla/robots-arx';
import { GENIE1 } from '@vla/robots-genie';

/** The embodiments a checkpoint's `robotType` can name. */
export const EMBODIMENTS: readonly Embodiment[] = [LIFT2, ACONE, GENIE1];

/** The embodiment of a robot type, or an error naming the known ones. */
export function embodimentOf(robotType: string): Embodiment {
  const e = EMBODIMENTS.find((x) => x.robotType === robotType);
  if (!e)
    throw new Error(
      `no embodiment for robot type "${robotType}" (known: ${EMBODIMENTS.map((x) => x.robotType).join(', ')})`,
    );
  return e;
}
