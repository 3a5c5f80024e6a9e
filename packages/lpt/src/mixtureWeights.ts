import { checkRank, validateDatasets, type Assignment, type DatasetSize } from './assignDatasets';

/**
 * One mixture rule: datasets whose id matches `pattern` (and no earlier rule) form the group
 * `group`, which receives `budget` of the sampling mass (before normalisation).
 */
export interface MixtureRule {
  /** Group name; unique across rules. */
  group: string;
  /**
   * Regular expression searched anywhere in the dataset id (`RegExp.test`, not a full match: anchor
   * with `^…$` when needed). A string is compiled with `new RegExp(pattern)`.
   */
  pattern: RegExp | string;
  /** Non-negative budget; budgets are normalised over the groups that have datasets. */
  budget: number;
}

/** Options of {@link mixtureWeights}. */
export interface MixtureOptions {
  /** Ordered rules; the first matching rule wins. End with a catch-all (`pattern: '.*'`) for a default group. */
  rules: readonly MixtureRule[];
  /**
   * Exponent γ: inside a group a dataset's share is proportional to `frames^γ`
   * (0: equal shares, 1: proportional to size, between: a tempered mix). Any finite number.
   */
  gamma: number;
}

/** A dataset with its mixture weight. */
export interface DatasetWeight {
  /** Dataset id. */
  id: string;
  /** Group of the first rule that matched. */
  group: string;
  /** The dataset's `total_frames`. */
  frames: number;
  /** Sampling probability; the weights of a mixture sum to 1. */
  weight: number;
}

/** A group of a mixture with its normalised budget. */
export interface GroupWeight {
  /** Group name (from the rule). */
  group: string;
  /** Budget as given in the rule. */
  budget: number;
  /** Budget divided by the sum of the budgets of the groups that have datasets (0 if it has none). */
  share: number;
  /** Ids of the group's datasets, in input order. */
  datasets: string[];
}

/** Result of {@link mixtureWeights}. */
export interface Mixture {
  /** One entry per input dataset, in input order. */
  datasets: DatasetWeight[];
  /** One entry per rule, in rule order. */
  groups: GroupWeight[];
  /** The γ used. */
  gamma: number;
}

/**
 * Computes mixture weights: each dataset joins the group of the first rule whose pattern matches
 * its id; a group's budget is spread over its datasets in proportion to `frames^γ`; budgets are
 * normalised so that all weights sum to 1.
 *
 * Decisions worth knowing:
 * - A dataset that matches no rule is an error (no silent default group): end the rules with a
 *   catch-all such as `{ group: 'other', pattern: '.*', budget: 0.05 }` to get one.
 * - Budgets are normalised over the groups that actually have a non-empty dataset, so a rule that
 *   matches nothing takes no mass away from the others.
 * - A zero-frame dataset gets weight 0 whatever γ is (there is no frame to sample); a group whose
 *   datasets all have zero frames counts as having no datasets.
 *
 * @throws Error on unmatched datasets, bad rules (duplicate group, negative budget, bad regex),
 *   a non-finite γ, or when no group with datasets has a positive budget.
 */
export function mixtureWeights(datasets: readonly DatasetSize[], options: MixtureOptions): Mixture {
  validateDatasets(datasets);
  const { rules, gamma } = options;
  if (!Number.isFinite(gamma)) throw new Error(`mixture gamma must be a finite number, got ${String(gamma)}`);
  const compiled = compileRules(rules);

  const members: number[][] = compiled.map(() => []);
  const groupIndexOf = datasets.map((d, i) => {
    const g = compiled.findIndex((re) => re.test(d.id));
    if (g < 0) {
      throw new Error(
        `dataset '${d.id}' matches no mixture rule (patterns: ${compiled.map(String).join(', ')}); ` +
          `add a rule for it or a catch-all rule (pattern '.*') last`,
      );
    }
    members[g].push(i);
    return g;
  });

  const active = members.map((idx) => idx.some((i) => datasets[i].frames > 0));
  const budgetSum = rules.reduce((s, r, g) => (active[g] ? s + r.budget : s), 0);
  if (!(budgetSum > 0)) {
    throw new Error(
      `mixture budgets of the groups that have datasets sum to ${budgetSum}; at least one must be positive`,
    );
  }

  const weights = new Array<number>(datasets.length).fill(0);
  members.forEach((idx, g) => {
    if (!active[g]) return;
    const share = rules[g].budget / budgetSum;
    const spread = spreadByPower(
      idx.map((i) => datasets[i].frames),
      gamma,
    );
    idx.forEach((i, k) => (weights[i] = share * spread[k]));
  });

  return {
    gamma,
    datasets: datasets.map((d, i) => ({
      id: d.id,
      group: rules[groupIndexOf[i]].group,
      frames: d.frames,
      weight: weights[i],
    })),
    groups: rules.map((r, g) => ({
      group: r.group,
      budget: r.budget,
      share: active[g] ? r.budget / budgetSum : 0,
      datasets: members[g].map((i) => datasets[i].id),
    })),
  };
}

/**
 * The weights of one rank under LPT: its datasets' global weights renormalised to sum to 1,
 * in the rank's dataset order.
 *
 * @throws Error when a dataset of the rank is missing from the mixture, or when all of the rank's
 *   datasets have weight 0 (the rank would have nothing to sample).
 */
export function rankMixture(assignment: Assignment, mixture: Mixture, rank: number): DatasetWeight[] {
  checkRank(assignment, rank);
  const byId = new Map(mixture.datasets.map((d) => [d.id, d]));
  const own = assignment.ranks[rank].datasets.map((d) => {
    const w = byId.get(d.id);
    if (!w) throw new Error(`rank ${rank}: dataset '${d.id}' is not in the mixture`);
    return w;
  });
  const total = own.reduce((s, d) => s + d.weight, 0);
  if (!(total > 0)) {
    throw new Error(
      `rank ${rank}: all of its datasets (${own.map((d) => d.id).join(', ')}) have mixture weight 0; ` +
        `give their groups a positive budget or drop them`,
    );
  }
  return own.map((d) => ({ ...d, weight: d.weight / total }));
}

function compileRules(rules: readonly MixtureRule[]): RegExp[] {
  if (!Array.isArray(rules) || rules.length === 0) throw new Error('mixture rules must be a non-empty array');
  const groups = new Set<string>();
  return rules.map((r, i) => {
    if (typeof r.group !== 'string' || r.group.length === 0) {
      throw new Error(`rules[${i}].group must be a non-empty string, got ${JSON.stringify(r.group)}`);
    }
    if (groups.has(r.group)) throw new Error(`duplicate mixture group '${r.group}' (rules[${i}])`);
    groups.add(r.group);
    if (!Number.isFinite(r.budget) || r.budget < 0) {
      throw new Error(`rule '${r.group}': budget must be a finite number >= 0, got ${String(r.budget)}`);
    }
    let source: string;
    let flags = '';
    if (r.pattern instanceof RegExp) {
      source = r.pattern.source;
      flags = r.pattern.flags;
    } else if (typeof r.pattern === 'string') {
      source = r.pattern;
    } else {
      throw new Error(`rule '${r.group}': pattern must be a RegExp or a string`);
    }
    try {
      // Drop g/y: with them RegExp.test keeps lastIndex between calls and would skip matches.
      return new RegExp(source, flags.replace(/[gy]/g, ''));
    } catch (e) {
      throw new Error(
        `rule '${r.group}': invalid pattern ${JSON.stringify(source)}: ${(e as Error).message}`,
      );
    }
  });
}

/**
 * Shares proportional to `frames^γ` among the non-empty entries (zero-frame entries get 0).
 * Computed in log space so that large γ neither overflows nor underflows.
 */
function spreadByPower(frames: number[], gamma: number): number[] {
  const logs = frames.map((f) => (f > 0 ? gamma * Math.log(f) : -Infinity));
  const top = Math.max(...logs);
  const raw = logs.map((l) => (l === -Infinity ? 0 : Math.exp(l - top)));
  const sum = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => x / sum);
}
