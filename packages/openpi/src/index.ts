/**
 * openpi's policy-server protocol (WebSocket + msgpack-numpy): a server for any ActionSource, a
 * TypeScript client, and the wire codec, byte-compatible with openpi-client.
 * @packageDocumentation
 */
export { OpenpiError } from './openpiError.js';
export {
  NDARRAY_DTYPES,
  NpScalar,
  isNdArray,
  ndarray,
  ndarrayToFloat64,
  type NdArray,
  type NdArrayData,
} from './ndarray.js';
export { packOpenpi, unpackOpenpi } from './msgpackNumpy.js';
export {
  observationToOpenpi,
  parseObservationDict,
  type ObservationLimits,
  type ParsedObservation,
} from './observationDict.js';
export {
  PolicyServer,
  type PolicyServerOptions,
  type PolicyServerStats,
  type ServerEpisode,
} from './policyServer.js';
export { OpenpiClient, type OpenpiClientOptions, type OpenpiReply } from './openpiClient.js';
export { openpiActionSource } from './openpiActionSource.js';
