import { checkRank, type Assignment } from './assignDatasets';

/** Options of {@link openRankDatasets}. */
export interface OpenRankDatasetsOptions {
  /** How many `open` calls may run at once (default 4). */
  concurrency?: number;
}

/**
 * Opens the datasets of one rank and nothing else, so that memory and I/O stay per rank.
 * `open` is called exactly once per dataset of `rank`; the result maps id to the opened value, in
 * the rank's dataset order.
 *
 * @param assignment - From `assignDatasets`.
 * @param rank - This process's rank.
 * @param open - Opens one dataset by id (e.g. reads its LeRobot metadata).
 * @throws Error for a bad rank or concurrency; a failing `open` rejects with an Error that names
 *   the dataset and rank and carries the original error as `cause`.
 */
export async function openRankDatasets<T>(
  assignment: Assignment,
  rank: number,
  open: (id: string) => Promise<T>,
  options: OpenRankDatasetsOptions = {},
): Promise<Map<string, T>> {
  checkRank(assignment, rank);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new Error(`openRankDatasets: concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  const ids = assignment.ranks[rank].datasets.map((d) => d.id);
  const opened = new Array<T>(ids.length);
  let nextIndex = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // Stop taking new work after a failure so a bad dataset does not trigger every other open.
    while (!failed && nextIndex < ids.length) {
      const i = nextIndex++;
      try {
        opened[i] = await open(ids[i]);
      } catch (e) {
        failed = true;
        throw new Error(
          `rank ${rank}: opening dataset '${ids[i]}' failed: ${(e as Error)?.message ?? String(e)}`,
          {
            cause: e,
          },
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return new Map(ids.map((id, i) => [id, opened[i]]));
}
