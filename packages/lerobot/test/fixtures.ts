// Where the shared LeRobot fixtures live: `VLA_FIXTURES` if set, else the `shared/` folder beside the
// repository checkout (how CI lays it out).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [
  process.env.VLA_FIXTURES && join(process.env.VLA_FIXTURES, 'lerobot'),
  resolve(here, '../../../../shared/fixtures/lerobot'),
].filter((p): p is string => !!p);

/** The fixtures folder; throws naming every place looked at when none exists. */
export function lerobotFixtures(): string {
  const found = candidates.find((p) => existsSync(join(p, 'cr5_grasp_cube_v21', 'meta', 'info.json')));
  if (!found) throw new Error(`LeRobot fixtures not found; looked in: ${candidates.join(', ')} (set VLA_FIXTURES)`);
  return found;
}
