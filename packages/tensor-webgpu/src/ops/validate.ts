// Checks of the numeric options of public ops, layers and optimizers. A NaN scale or eps, an infinite
// learning rate or a fractional stride would otherwise run and quietly produce NaN or garbage; here it
// throws, naming the op, the option and the value, before any kernel is compiled or dispatched.

/** What a number must be for {@link checkNumber}: always finite (never NaN or ±Infinity), then these. */
export interface NumberRule {
  /** Must be an integer. */
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
}

function passes(v: unknown, r: NumberRule): v is number {
  return (
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!r.integer || Number.isInteger(v)) &&
    (r.min === undefined || v >= r.min) &&
    (r.above === undefined || v > r.above) &&
    (r.below === undefined || v < r.below)
  );
}

function describeRule(r: NumberRule, plural: boolean): string {
  const bounds = [
    r.min !== undefined ? `>= ${r.min}` : '',
    r.above !== undefined ? `> ${r.above}` : '',
    r.below !== undefined ? `< ${r.below}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  if (r.integer) return `${plural ? 'integers' : 'an integer'}${bounds ? ` ${bounds}` : ''}`;
  return bounds ? `${bounds} and finite` : plural ? 'finite numbers' : 'a finite number';
}

function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || v === undefined) return String(v);
  try {
    // JSON prints NaN and infinities as null: print numbers ourselves.
    return Array.isArray(v) ? `[${v.map(show).join(', ')}]` : (JSON.stringify(v) ?? String(v));
  } catch {
    return String(v);
  }
}

/** Returns `value` when it is a finite number satisfying `rule`; otherwise throws `op: name must be …, got value`. */
export function checkNumber(op: string, name: string, value: unknown, rule: NumberRule = {}): number {
  if (!passes(value, rule))
    throw new Error(`${op}: ${name} must be ${describeRule(rule, false)}, got ${show(value)}`);
  return value;
}

/** Checks every entry of a list of numbers (e.g. padding), naming the whole list in the error. */
export function checkNumberList(
  op: string,
  name: string,
  values: readonly unknown[],
  rule: NumberRule = {},
): number[] {
  if (!values.every((v) => passes(v, rule)))
    throw new Error(`${op}: ${name} must be ${describeRule(rule, true)}, got ${show(values)}`);
  return values as number[];
}

/**
 * A spatial option given once for both dims or as [h, w] (stride, dilation, kernel size), as two
 * integers >= `min`; `dflt` when undefined.
 */
export function spatialPair(
  op: string,
  name: string,
  value: unknown,
  dflt: number,
  min: number,
): [number, number] {
  if (value === undefined) return [dflt, dflt];
  const rule = { integer: true, min };
  if (typeof value === 'number') {
    const v = checkNumber(op, name, value, rule);
    return [v, v];
  }
  if (!Array.isArray(value) || value.length !== 2)
    throw new Error(`${op}: ${name} must be a number or [h, w], got ${show(value)}`);
  const [h, w] = checkNumberList(op, name, value, rule);
  return [h, w];
}

/** Returns `value` when it is one of `allowed`; otherwise throws naming the op, the option and the value. */
export function checkOneOf<T extends string>(
  op: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T))
    throw new Error(
      `${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}`,
    );
  return value as T;
}
