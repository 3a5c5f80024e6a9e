import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MpiError } from './mpiError';

/** What the C++ addon (csrc/mpi_addon.cc) exports. */
export interface NativeMpi {
  init(): { rank: number; size: number; threadLevel: number; threadSerialized: number; library: string };
  barrier(): Promise<void>;
  broadcast(view: ArrayBufferView, root: number): Promise<void>;
  allReduceSum(view: Float32Array | Float64Array | Int32Array): Promise<void>;
  finalize(): void;
  abort(exitCode: number): void;
}

// src/ and dist/ both sit one level below the package root, next to build/.
const ADDON_URL = new URL('../build/vla_mpi.node', import.meta.url);

/**
 * Loads the addon. Called from `Mpi.init()`, never at import time, so importing the package on a
 * machine without Open MPI or without the built addon works.
 */
export function loadNativeMpi(): NativeMpi {
  const path = fileURLToPath(ADDON_URL);
  if (!existsSync(path))
    throw new MpiError(
      `Mpi.init: the native addon ${path} is not built; run \`npm run build\` in @vla/mpi ` +
        '(needs Open MPI: `apt-get install libopenmpi-dev openmpi-bin`)',
    );
  try {
    return createRequire(import.meta.url)(path) as NativeMpi;
  } catch (error) {
    throw new MpiError(
      `Mpi.init: loading the native addon ${path} failed (is Open MPI installed? \`apt-get install openmpi-bin\`): ${(error as Error).message}`,
    );
  }
}
