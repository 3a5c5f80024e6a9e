/**
 * What `@vla/openpi` throws on bad input or a failed exchange: a malformed message, an ndarray whose
 * dtype, shape or data disagree, an observation dict that does not fit the embodiment, or an error the
 * server reported. The message names the key, dtype, shape or value that is wrong.
 */
export class OpenpiError extends Error {
  /** @param message what is wrong, naming the key, dtype, shape or value */
  constructor(message: string) {
    super(message);
    this.name = 'OpenpiError';
  }
}
