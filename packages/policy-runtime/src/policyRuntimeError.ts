/**
 * A policy that cannot serve a robot: a processor that does not fit the network, a request for
 * another robot or with too short a state, a checkpoint without a processor, a bad history offset.
 * The message names the field and the values.
 */
export class PolicyRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyRuntimeError';
  }
}
