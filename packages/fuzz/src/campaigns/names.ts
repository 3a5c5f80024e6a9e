// Campaign names and their mutation kinds, apart from the campaigns themselves so that the parent
// process, the CLI and the tests never load a campaign's dependencies (GPU, ffmpeg, sockets).

/** The campaigns this package runs. */
export const CAMPAIGN_NAMES = ['checkpoints', 'datasets', 'rosbridge'] as const;

/** Name of a campaign. */
export type CampaignName = (typeof CAMPAIGN_NAMES)[number];

/** Campaigns the runner knows: the fuzz campaigns plus the harness's self-test. */
export type RunnableCampaign = CampaignName | 'selftest';

/** Mutation kinds: `ckpt:*` load a policy checkpoint, `st:*` a plain safetensors file. */
export const CHECKPOINT_KINDS = [
  'ckpt:truncate',
  'ckpt:flip-header',
  'ckpt:flip-data',
  'ckpt:dtype',
  'ckpt:shape',
  'ckpt:offsets',
  'ckpt:names',
  'ckpt:config',
  'ckpt:manifest',
  'ckpt:metadata',
  'ckpt:values',
  'st:truncate',
  'st:flip',
  'st:dtype',
  'st:shape',
  'st:offsets',
  'st:names',
  'st:values',
] as const;

/** Mutation kinds; `control` is the untouched fixture, which must be accepted. */
export const DATASET_KINDS = [
  'control',
  'parquet-truncate',
  'parquet-flip',
  'info-edit',
  'stats-edit',
  'episodes-edit',
  'timestamps',
  'rows-edit',
  'video-swap',
  'video-fps',
  'video-truncate',
  'video-fragment',
  'video-flip',
] as const;

/** Hostile session kinds. */
export const ROSBRIDGE_KINDS = [
  'random-ops',
  'event-topics',
  'malformed-json',
  'huge-frame',
  'fragments',
  'bad-joint-state',
  'replayed-stamps',
  'frozen-camera',
  'image-bombs',
  'disconnects',
  'flood',
] as const;

/** What each self-test kind does; the name says the outcome the harness must report. */
export const SELFTEST_KINDS = [
  'clear-error',
  'accepted',
  'silent-change',
  'crash:type-error',
  'crash:unclear-message',
  'crash:unhandled-rejection',
  'crash:process-exit',
  'hang:busy-loop',
  'hang:never-resolves',
  'hang:event-loop',
  'leak',
] as const;
