/**
 * A training data pipeline that cannot be built or fed: datasets that disagree with each other or with
 * the processor, bad options, an impossible resume position. The message names the dataset, field and
 * values; `dataset` is the offending dataset's id when there is one.
 */
export class TrainingDataError extends Error {
  /** Id of the dataset at fault, or undefined when the problem is not one dataset's. */
  readonly dataset: string | undefined;
  constructor(message: string, dataset?: string) {
    super(message);
    this.name = 'TrainingDataError';
    this.dataset = dataset;
  }
}
