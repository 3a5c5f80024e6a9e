/** Where a process's rank and world size came from. */
export type LauncherKind = 'options' | 'mpirun' | 'torchrun' | 'kubernetes-indexed-job' | 'single-process';

/** Options of {@link resolveLauncher}. */
export interface LauncherOptions {
  /** Explicit rank; wins over every environment variable. */
  rank?: number;
  /** Explicit world size; wins over every environment variable. Required for an Indexed Job that sets neither `WORLD_SIZE` nor `JOB_COMPLETIONS`. */
  worldSize?: number;
  /** Environment to read (default `process.env`, or nothing where there is no `process`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A resolved rank and world size, with where each came from (for logs). */
export interface LauncherInfo {
  /** This process's rank, `0 <= rank < worldSize`. */
  rank: number;
  /** Number of processes. */
  worldSize: number;
  /** The launcher detected from the environment, or `options` / `single-process`. */
  launcher: LauncherKind;
  /** Where the rank came from, e.g. `OMPI_COMM_WORLD_RANK` or `options.rank`. */
  rankFrom: string;
  /** Where the world size came from, e.g. `WORLD_SIZE` or `options.worldSize`. */
  worldSizeFrom: string;
}

interface EnvLauncher {
  kind: LauncherKind;
  rankVar: string;
  /** Variables tried in order for the world size. */
  worldVars: string[];
}

/**
 * Launchers in detection order: the first whose rank variable is set is the one in use.
 * The per-process variables (mpirun, torchrun) come before Kubernetes' per-pod index: a pod of an
 * Indexed Job that runs torchrun inside carries both, and RANK is the process's own.
 */
const LAUNCHERS: readonly EnvLauncher[] = [
  { kind: 'mpirun', rankVar: 'OMPI_COMM_WORLD_RANK', worldVars: ['OMPI_COMM_WORLD_SIZE'] },
  { kind: 'torchrun', rankVar: 'RANK', worldVars: ['WORLD_SIZE'] },
  // Kubernetes sets JOB_COMPLETION_INDEX on its own but has no variable for the job's size:
  // put `.spec.completions` into the pod template as WORLD_SIZE or JOB_COMPLETIONS.
  {
    kind: 'kubernetes-indexed-job',
    rankVar: 'JOB_COMPLETION_INDEX',
    worldVars: ['WORLD_SIZE', 'JOB_COMPLETIONS'],
  },
];

function parseCount(value: string, name: string): number {
  if (!/^[0-9]+$/.test(value))
    throw new Error(`${name}=${JSON.stringify(value)} is not a non-negative integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${JSON.stringify(value)} is too large`);
  return n;
}

function checkOption(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Finds this process's rank and the world size.
 *
 * Precedence, field by field: an explicit option (`options.rank`, `options.worldSize`) wins;
 * otherwise the value comes from the first launcher whose rank variable is set:
 * 1. mpirun (Open MPI): `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`;
 * 2. torchrun and most PyTorch-style launchers: `RANK`, `WORLD_SIZE`;
 * 3. Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`; Kubernetes exports no job size, so the world
 *    size comes from `options.worldSize`, else `WORLD_SIZE`, else `JOB_COMPLETIONS` (set either to
 *    the Job's `.spec.completions` in the pod template); with none of them it is an error.
 * With no option and no launcher variable the process runs alone: rank 0 of 1.
 *
 * @throws Error naming the variable or option when a value is not a non-negative integer, the
 *   world size is 0 or missing, or the rank is not below the world size.
 */
export function resolveLauncher(options: LauncherOptions = {}): LauncherInfo {
  // globalThis.process: the package also runs in browsers, where there is no process.
  const env = options.env ?? globalThis.process?.env ?? {};
  const read = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const detected = LAUNCHERS.find((l) => read(l.rankVar) !== undefined);

  let rank: number | undefined;
  let rankFrom = '';
  if (options.rank !== undefined) {
    rank = checkOption(options.rank, 'options.rank');
    rankFrom = 'options.rank';
  } else if (detected) {
    rank = parseCount(read(detected.rankVar)!, detected.rankVar);
    rankFrom = detected.rankVar;
  }

  let worldSize: number | undefined;
  let worldSizeFrom = '';
  if (options.worldSize !== undefined) {
    worldSize = checkOption(options.worldSize, 'options.worldSize');
    worldSizeFrom = 'options.worldSize';
  } else if (detected) {
    const name = detected.worldVars.find((v) => read(v) !== undefined);
    if (name === undefined) {
      throw new Error(
        `${detected.rankVar}=${read(detected.rankVar)} is set (${detected.kind}) but no world size was found: ` +
          `set ${detected.worldVars.join(' or ')}, or pass options.worldSize`,
      );
    }
    worldSize = parseCount(read(name)!, name);
    worldSizeFrom = name;
  }

  const allOptions = options.rank !== undefined && options.worldSize !== undefined;
  const launcher: LauncherKind = allOptions
    ? 'options'
    : (detected?.kind ?? (rank === undefined && worldSize === undefined ? 'single-process' : 'options'));
  if (rank === undefined && worldSize === undefined) {
    rank = 0;
    worldSize = 1;
    rankFrom = worldSizeFrom = 'default (no launcher found)';
  } else if (rank === undefined) {
    if (worldSize !== 1) {
      throw new Error(
        `world size ${worldSize} (${worldSizeFrom}) given but no rank: pass options.rank or run under ` +
          `mpirun, torchrun or a Kubernetes Indexed Job`,
      );
    }
    rank = 0;
    rankFrom = 'default (world size 1)';
  } else if (worldSize === undefined) {
    throw new Error(`rank ${rank} (${rankFrom}) given but no world size: pass options.worldSize`);
  }

  if (worldSize! < 1) throw new Error(`world size must be at least 1, got ${worldSize} (${worldSizeFrom})`);
  if (rank >= worldSize!) {
    throw new Error(
      `rank ${rank} (${rankFrom}) must be less than the world size ${worldSize} (${worldSizeFrom})`,
    );
  }
  return { rank, worldSize: worldSize!, launcher, rankFrom, worldSizeFrom };
}
