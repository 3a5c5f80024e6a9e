/**
 * @vla/fuzz — seeded, bounded fuzz campaigns over policy checkpoints, safetensors files, LeRobot
 * datasets and rosbridge sessions, counting outcomes (clear error, accepted, silent change, crash,
 * hang, leak). Private: run by CI at a small count and by `npm run bench` at a large one.
 * @packageDocumentation
 */
export { FAILING_OUTCOMES, OUTCOMES, errorLine, judgeByClass } from './outcome.js';
export type { Campaign, CaseContext, CaseResult, FuzzCase, Outcome, Verdict } from './outcome.js';
export { FuzzReport } from './report.js';
export { runCampaign } from './runner.js';
export type { RunOptions } from './runner.js';
export {
  CAMPAIGN_NAMES,
  CHECKPOINT_KINDS,
  DATASET_KINDS,
  ROSBRIDGE_KINDS,
  SELFTEST_KINDS,
} from './campaigns/names.js';
export type { CampaignName, RunnableCampaign } from './campaigns/names.js';
export { parseFuzzArgs, runFuzz } from './cli.js';
export type { FuzzArgs } from './cli.js';
export { Rng } from './rng.js';
export { parseStrictJson, StrictJsonError } from './oracle/strictJson.js';
export {
  crc32Hex,
  decodeValues,
  encodeValues,
  parseFile,
  roundToHalf,
  writeFile,
} from './oracle/safetensors.js';
export type { OracleFile, OracleParse, OracleTensor, RawTensor } from './oracle/safetensors.js';
