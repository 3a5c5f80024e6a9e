import { LeRobotError } from './errors';
import { readText, type DatasetStorage } from './storage';

/**
 * Parses the JSON text of a dataset file. A syntax error becomes a {@link LeRobotError} with code
 * `bad_json` naming the file (and the line, for JSONL).
 */
export function parseJson(text: string, path: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = line === undefined ? path : `${path}: line ${line}`;
    throw new LeRobotError('bad_json', `${where} is not valid JSON: ${(e as Error).message}`, {
      path,
      cause: e,
    });
  }
}

/** Like {@link parseJson}, but the value must be a JSON object (`bad_json` otherwise). */
export function parseJsonObject(text: string, path: string, line?: number): Record<string, unknown> {
  const v = parseJson(text, path, line);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const where = line === undefined ? path : `${path}: line ${line}`;
    throw new LeRobotError('bad_json', `${where} must be a JSON object, got ${describeJson(v)}`, { path });
  }
  return v as Record<string, unknown>;
}

/** Reads a JSON object file (`meta/info.json`, `meta/stats.json`). */
export async function readJsonObject(
  storage: DatasetStorage,
  path: string,
): Promise<Record<string, unknown>> {
  return parseJsonObject(await readText(storage, path), path);
}

/** Reads a JSONL file whose every non-empty line is a JSON object. */
export async function readJsonl(storage: DatasetStorage, path: string): Promise<Record<string, unknown>[]> {
  const text = await readText(storage, path);
  const out: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') out.push(parseJsonObject(line, path, i + 1));
  });
  return out;
}

/** A short description of a value for error messages (safe for bigint, lists and objects). */
export function describeJson(v: unknown): string {
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a list of ${(v as unknown as ArrayLike<unknown>).length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
