import { CONVEYOR_SORT } from './conveyorSortTask.js';
import { HANDOVER } from './handoverTask.js';
import { PICK_PLACE } from './pickPlaceTask.js';
import type { SimTask } from './simTask.js';

/** Every task, by name. */
export const SIM_TASKS: Readonly<Record<string, SimTask>> = {
  [PICK_PLACE.name]: PICK_PLACE,
  [CONVEYOR_SORT.name]: CONVEYOR_SORT,
  [HANDOVER.name]: HANDOVER,
};

/** The task called `name`; throws a clear error for an unknown one. */
export function simTask(name: string): SimTask {
  const t = Object.hasOwn(SIM_TASKS, name) ? SIM_TASKS[name] : undefined;
  if (!t)
    throw new Error(`sim: unknown task "${name}"; expected one of ${Object.keys(SIM_TASKS).join(', ')}`);
  return t;
}
