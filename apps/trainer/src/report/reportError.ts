/** A metrics log, foresight image or report input that is malformed; the message names the file, line or field. */
export class ReportError extends Error {
  override name = 'ReportError';
}
