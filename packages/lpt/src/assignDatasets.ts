/**
 * One dataset as LPT sees it: an id (the LeRobot repo folder, or any unique name) and its size.
 */
export interface DatasetSize {
  /** Unique id; mixture rules are matched against it. */
  id: string;
  /** The dataset's `total_frames` (a non-negative integer). */
  frames: number;
}

/** The datasets one rank trains on, in the order they were given to it. */
export interface RankShare {
  /** Rank index, `0 <= rank < worldSize`. */
  rank: number;
  /** Datasets of this rank (largest first). */
  datasets: DatasetSize[];
  /** Sum of `frames` over `datasets`. */
  load: number;
}

/** Result of {@link assignDatasets}. */
export interface Assignment {
  /** Number of ranks K. */
  worldSize: number;
  /** One entry per rank, indexed by rank. */
  ranks: RankShare[];
  /** Ids of zero-frame datasets, left out because there is nothing in them to sample. */
  skipped: string[];
  /** True when there were fewer (non-empty) datasets than ranks and datasets were cycled. */
  duplicated: boolean;
}

/**
 * Orders datasets largest first, ties by id (plain code-unit order, so the result never depends on
 * the locale or on the order the caller listed them in).
 */
export function compareBySizeThenId(a: DatasetSize, b: DatasetSize): number {
  if (a.frames !== b.frames) return b.frames - a.frames;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Checks a dataset list: non-empty string ids, no duplicated id, frames a non-negative safe integer.
 * Throws an Error naming the offending entry.
 */
export function validateDatasets(datasets: readonly DatasetSize[]): void {
  if (!Array.isArray(datasets)) throw new Error(`datasets must be an array, got ${typeof datasets}`);
  const seen = new Map<string, number>();
  datasets.forEach((d, i) => {
    if (d === null || typeof d !== 'object') throw new Error(`datasets[${i}] is not an object`);
    if (typeof d.id !== 'string' || d.id.length === 0) {
      throw new Error(`datasets[${i}].id must be a non-empty string, got ${JSON.stringify(d.id)}`);
    }
    if (!Number.isSafeInteger(d.frames) || d.frames < 0) {
      throw new Error(
        `dataset '${d.id}' (datasets[${i}]): frames must be a non-negative integer, got ${String(d.frames)}`,
      );
    }
    const first = seen.get(d.id);
    if (first !== undefined) {
      throw new Error(`duplicate dataset id '${d.id}' (datasets[${first}] and datasets[${i}])`);
    }
    seen.set(d.id, i);
  });
}

/**
 * Assigns datasets to `worldSize` ranks with the greedy LPT rule (longest processing time first).
 *
 * Datasets are sorted by frames descending (ties by id); each in turn goes to the rank with the
 * least load so far (ties to the lowest rank). The makespan (largest rank load) is then at most
 * `4/3 - 1/(3K)` times the best possible. With fewer datasets than ranks, rank `r` gets sorted
 * dataset `r mod N`: datasets are duplicated so that no rank sits idle.
 *
 * Zero-frame datasets are skipped (reported in {@link Assignment.skipped}): they cost nothing to
 * hold but a rank that got only those would have nothing to sample.
 *
 * @param datasets - Datasets with their `total_frames`; ids must be unique.
 * @param worldSize - Number of ranks K (a positive integer).
 * @throws Error on a bad world size, a bad or duplicated entry, or no dataset with frames.
 */
export function assignDatasets(datasets: readonly DatasetSize[], worldSize: number): Assignment {
  if (!Number.isSafeInteger(worldSize) || worldSize < 1) {
    throw new Error(`worldSize must be a positive integer, got ${String(worldSize)}`);
  }
  validateDatasets(datasets);
  const usable = datasets.filter((d) => d.frames > 0).map((d) => ({ id: d.id, frames: d.frames }));
  const skipped = datasets.filter((d) => d.frames === 0).map((d) => d.id);
  if (usable.length === 0) {
    throw new Error(
      datasets.length === 0
        ? 'assignDatasets: no datasets given'
        : `assignDatasets: every dataset has 0 frames (${skipped.join(', ')})`,
    );
  }
  usable.sort(compareBySizeThenId);

  const ranks: RankShare[] = Array.from({ length: worldSize }, (_, rank) => ({
    rank,
    datasets: [],
    load: 0,
  }));
  const duplicated = usable.length < worldSize;
  if (duplicated) {
    for (const share of ranks) {
      const d = usable[share.rank % usable.length];
      share.datasets.push({ ...d });
      share.load = d.frames;
    }
  } else {
    for (const d of usable) {
      // A linear scan is fine: K is the number of processes, and it keeps "lowest rank wins" obvious.
      let best = ranks[0];
      for (const share of ranks) if (share.load < best.load) best = share;
      best.datasets.push(d);
      best.load += d.frames;
    }
  }
  return { worldSize, ranks, skipped, duplicated };
}

/**
 * The datasets of one rank.
 *
 * @throws Error when `rank` is not an integer in `[0, assignment.worldSize)`.
 */
export function datasetsForRank(assignment: Assignment, rank: number): DatasetSize[] {
  checkRank(assignment, rank);
  return assignment.ranks[rank].datasets.map((d) => ({ ...d }));
}

/** Throws unless `rank` is a valid rank of `assignment`. */
export function checkRank(assignment: Assignment, rank: number): void {
  if (!Number.isSafeInteger(rank) || rank < 0 || rank >= assignment.worldSize) {
    throw new Error(`rank must be an integer in [0, ${assignment.worldSize}), got ${String(rank)}`);
  }
}

/** The largest rank load of an assignment (what the slowest rank has to hold). */
export function makespan(assignment: Assignment): number {
  return assignment.ranks.reduce((m, r) => Math.max(m, r.load), 0);
}
