// Upstream InternVLA-A1 checkpoints, the parts that need no file system: the name map, configuration
// inference from config.json and tensor shapes, and the processor from upstream's stats.json.
// Reading and writing checkpoint files is Node-only (src/node.ts).
export { UpstreamImportError } from './upstreamImportError.js';
export {
  classifyUpstreamKey,
  upstreamToVlaName,
  vlaToUpstreamName,
  UPSTREAM_LM_HEAD,
  EMBED_TOKENS,
} from './upstreamNames.js';
export type { UpstreamKeyClass } from './upstreamNames.js';
export { inferUpstreamConfig } from './upstreamConfig.js';
export type { InferUpstreamConfigOptions, UpstreamShapes } from './upstreamConfig.js';
export { processorFromUpstreamStats } from './upstreamStats.js';
export type { UpstreamProcessorLayout } from './upstreamStats.js';
