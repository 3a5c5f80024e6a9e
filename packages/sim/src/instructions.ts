import type { Rng } from './rng.js';

/** A tiny template grammar: `{a|b|c}` picks one alternative, `[x]` is optional; nesting is allowed. */
export function expandTemplate(template: string, rng: Rng): string {
  let out = template;
  // Innermost groups first, so alternatives may contain optional parts and the other way round.
  for (;;) {
    const next = out.replace(
      /\{([^{}[\]]*)\}|\[([^{}[\]]*)\]/,
      (_m, alts: string | undefined, opt: string | undefined) =>
        alts !== undefined ? rng.pick(alts.split('|')) : rng.next() < 0.5 ? opt! : '',
    );
    if (next === out) break;
    out = next;
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** Words for an object: colour and shape names with synonyms. */
export const SHAPE_WORDS: Readonly<Record<string, string>> = {
  box: '{cube|block}',
  cylinder: '{cylinder|can}',
};

/** Instruction templates per task; `<object>` and `<bin>` are filled in by the task. */
export const INSTRUCTION_TEMPLATES: Readonly<Record<string, readonly string[]>> = {
  'pick-place': [
    '[please] {put|place|drop|move} the <object> {in|into} the <bin>',
    '{pick up|grab|take} the <object> and {put|place|drop} it {in|into} the <bin>',
    'the <object> {goes|belongs} in the <bin>',
  ],
  'conveyor-sort': [
    '{sort|move} the parcels on the {conveyor|belt} into the bins of {matching|the same} colour',
    '{pick|grab} each parcel {off|from} the {moving belt|conveyor} and {drop|put} it in the bin of its colour',
    'put {every|each} {parcel|package} in the {bin|box} that matches its colour',
  ],
  handover: [
    '{hand|pass} the <object> {from the left hand to the right hand|to the other hand} and {put|place} it {in|into} the <bin>',
    'pick up the <object> with the left {arm|hand}, {give|hand} it to the right one and {drop|put} it in the <bin>',
  ],
};

/** One instruction for `task`, `<object>` and `<bin>` replaced by the given phrases. */
export function makeInstruction(task: string, rng: Rng, object = '', bin = ''): string {
  const templates = INSTRUCTION_TEMPLATES[task];
  if (!templates) throw new Error(`sim: no instruction templates for task "${task}"`);
  return expandTemplate(rng.pick(templates).replace('<object>', object).replace('<bin>', bin), rng);
}
