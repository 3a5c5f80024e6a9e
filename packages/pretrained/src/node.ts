// File-system access to the shipped policies (Node only).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_PRETRAINED_POLICY,
  pretrainedPolicyUrl,
  trainingRecordUrl,
  type TrainingRecord,
} from './index.js';

export * from './index.js';

/** Path of a shipped policy's checkpoint, for `loadPolicy` / `loadPolicySource` / the CLIs. */
export function pretrainedPolicyPath(name: string = DEFAULT_PRETRAINED_POLICY): string {
  return fileURLToPath(pretrainedPolicyUrl(name));
}

/** Reads a shipped policy's training record. */
export async function readTrainingRecord(name: string = DEFAULT_PRETRAINED_POLICY): Promise<TrainingRecord> {
  const path = fileURLToPath(trainingRecordUrl(name));
  return JSON.parse(await readFile(path, 'utf8')) as TrainingRecord;
}
