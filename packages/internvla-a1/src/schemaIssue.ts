// The first problem zod found, as a field path and a sentence naming the offending value: the one
// reporting rule for every JSON document a checkpoint carries (config, processor).
import type { z } from 'zod';

/** The first problem of a failed parse: `field` like `vlm.text.numLayers` or `stats.state.mean[3]`. */
export interface SchemaIssue {
  readonly field: string;
  readonly problem: string;
}

function shown(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  // JSON would print NaN and ±Infinity as null.
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Describes the first issue of `error` for `input` (the document that was parsed). */
export function firstSchemaIssue(error: z.ZodError, input: unknown): SchemaIssue {
  const issue = error.issues[0];
  const field = issue.path
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
    .join('')
    .replace(/^\./, '');
  // A misspelt field would otherwise be dropped silently (and its default used).
  if (issue.code === 'unrecognized_keys')
    return { field, problem: `has unknown field(s) ${issue.keys.join(', ')}` };
  // Missing keys have no input of their own: show the value at the path.
  return { field, problem: `${issue.message}, got ${shown(valueAt(input, issue.path))}` };
}
