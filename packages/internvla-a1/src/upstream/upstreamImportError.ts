// One error type for everything that can go wrong while importing upstream or Hugging Face weights,
// so a caller (the CLI) can tell bad input from a bug and print the message as it is.

/**
 * Bad input to an import: a missing or truncated shard, an unknown or missing tensor, a shape or
 * dtype the policy cannot take, a config.json value that disagrees with the tensors. `source` names
 * the file (or directory) and the message names the key or tensor.
 */
export class UpstreamImportError extends Error {
  /** The file or directory the problem is in. */
  readonly source: string;
  /** What is wrong, naming the key or tensor. */
  readonly problem: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'UpstreamImportError';
    this.source = source;
    this.problem = problem;
  }
}

/** A short list for messages: the first `n` items and how many there are. */
export function listShort(items: readonly string[], n = 8): string {
  return items.slice(0, n).join(', ') + (items.length > n ? `, … (${items.length} in all)` : '');
}
