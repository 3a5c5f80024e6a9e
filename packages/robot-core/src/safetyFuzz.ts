import type { Embodiment } from './embodiment.js';
import { SafetyLayer, type SafetyConfig } from './safetyLayer.js';

/** Probabilities per tick of each kind of trouble in {@link fuzzSafetyLayer}. */
export interface SafetyFuzzRates {
  /** A NaN somewhere in the action. */
  readonly nan: number;
  /** ±Infinity somewhere in the action. */
  readonly inf: number;
  /** Values of magnitude up to 1e300. */
  readonly huge: number;
  /** No action at all. */
  readonly missing: number;
  /** An action of the wrong length. */
  readonly wrongLength: number;
  /** The action was computed from an observation far in the past. */
  readonly staleAction: number;
  /** No observation this tick (they go stale after a few). */
  readonly skipObservation: number;
  /** The observation itself contains NaN. */
  readonly badObservation: number;
  /** Press the e-stop. */
  readonly estop: number;
  /** Release the e-stop. */
  readonly reset: number;
  /** The clock stalls or jumps back this tick. */
  readonly clockGlitch: number;
}

/** Options of {@link fuzzSafetyLayer}. */
export interface SafetyFuzzOptions {
  /** Ticks to run. */
  readonly ticks: number;
  /** PRNG seed (any 32-bit integer). */
  readonly seed: number;
  /** Override trouble rates. */
  readonly rates?: Partial<SafetyFuzzRates>;
  /** Velocity scale of the layer under test, default 1. */
  readonly velocityScale?: number;
  /** Settings given to the layer but not to the checker; for negative controls that prove the checker fails. */
  readonly layerOverrides?: SafetyConfig;
}

/** What a fuzz run saw. */
export interface SafetyFuzzResult {
  /** Commands checked. */
  readonly commands: number;
  /** Of which holds. */
  readonly holds: number;
  /** Ticks during which the e-stop was latched. */
  readonly estopTicks: number;
}

const DEFAULT_RATES: SafetyFuzzRates = {
  nan: 0.05,
  inf: 0.05,
  huge: 0.1,
  missing: 0.03,
  wrongLength: 0.02,
  staleAction: 0.05,
  skipObservation: 0.1,
  badObservation: 0.02,
  estop: 0.02,
  reset: 0.04,
  clockGlitch: 0.03,
};

/**
 * Drives a fresh {@link SafetyLayer} for `embodiment` through a seeded random sequence of actions
 * (wide, huge, NaN, ±Inf, missing, wrong length, stale), observations (fresh, missing, NaN), clock
 * jitter and glitches, e-stops and resets, and checks every emitted command against its own reading of
 * the rules, independent of the layer's code: finite, inside every position limit, within
 * `maxVelocity × velocityScale × min(period, elapsed)` of the previous command, an exact repeat of the
 * previous command whenever held, and equal to the pose held at the e-stop for as long as it is latched.
 * Throws an Error describing the first violation (tick, dim, values).
 */
export function fuzzSafetyLayer(embodiment: Embodiment, options: SafetyFuzzOptions): SafetyFuzzResult {
  const e = embodiment;
  const n = e.dims.length;
  const rates = { ...DEFAULT_RATES, ...options.rates };
  const rnd = mulberry32(options.seed);
  const scale = options.velocityScale ?? 1;
  const period = 1000 / e.controlHz;
  const obsTimeout = 3 * period;
  const actTimeout = 20 * period;
  const safety = new SafetyLayer(e, {
    observationTimeoutMs: obsTimeout,
    actionTimeoutMs: actTimeout,
    velocityScale: scale,
    ...options.layerOverrides,
  });
  const uniformIn = (lo: number, hi: number) => lo + (hi - lo) * rnd();

  let now = 1000 + rnd() * 1000;
  const start = e.dims.map((d) => uniformIn(d.lower, d.upper));
  safety.observe(start, now);
  safety.start(start, now);
  let prev = safety.lastCommand!.positions.slice();
  let prevTime = now;
  let estopPose: readonly number[] | undefined;
  let holds = 0;
  let estopTicks = 0;
  const fail = (tick: number, what: string): never => {
    throw new Error(`safety fuzz ${e.robotType} seed ${options.seed} tick ${tick}: ${what}`);
  };

  for (let tick = 0; tick < options.ticks; tick++) {
    now += rnd() < rates.clockGlitch ? (rnd() < 0.5 ? 0 : -period * rnd() * 3) : period * uniformIn(0.2, 1.8);
    if (rnd() >= rates.skipObservation) {
      const obs = e.dims.map((d) => uniformIn(d.lower, d.upper));
      if (rnd() < rates.badObservation) obs[Math.floor(rnd() * n)] = Number.NaN;
      safety.observe(obs, now);
    }
    if (rnd() < rates.estop) {
      if (!estopPose) estopPose = prev.slice();
      safety.emergencyStop();
    }
    if (rnd() < rates.reset) {
      safety.resetEmergencyStop();
      estopPose = undefined;
    }

    let target: number[] | undefined = e.dims.map((d) => {
      const span = d.upper - d.lower;
      return uniformIn(d.lower - 0.5 * span, d.upper + 0.5 * span);
    });
    const r = rnd();
    let acc = 0;
    if (r < (acc += rates.nan)) target[Math.floor(rnd() * n)] = Number.NaN;
    else if (r < (acc += rates.inf)) target[Math.floor(rnd() * n)] = rnd() < 0.5 ? Infinity : -Infinity;
    else if (r < (acc += rates.huge))
      target = target.map(() => (rnd() < 0.5 ? -1 : 1) * Math.pow(10, uniformIn(3, 300)));
    else if (r < (acc += rates.missing)) target = undefined;
    else if (r < (acc += rates.wrongLength)) target = target.concat([0]).slice(rnd() < 0.5 ? 2 : 0);
    const actionTime = rnd() < rates.staleAction ? now - actTimeout * uniformIn(1.01, 100) : now;

    const cmd = safety.step(target, now, actionTime);
    const p = cmd.positions;
    if (p.length !== n) fail(tick, `${p.length} positions, expected ${n}`);
    const elapsed = Math.max(0, Math.min(period, now - prevTime)) / 1000;
    for (let i = 0; i < n; i++) {
      const d = e.dims[i];
      if (!Number.isFinite(p[i])) fail(tick, `${d.name} = ${p[i]}`);
      if (p[i] < d.lower || p[i] > d.upper)
        fail(tick, `${d.name} = ${p[i]} outside [${d.lower}, ${d.upper}]`);
      const step = Math.abs(p[i] - prev[i]);
      const bound = d.maxVelocity * scale * elapsed;
      if (step > bound * (1 + 1e-12) + 1e-12)
        fail(tick, `${d.name} moved ${step} > ${bound} (v ${d.maxVelocity}, dt ${elapsed})`);
      if (cmd.held && p[i] !== prev[i]) fail(tick, `${d.name} changed during a hold (${cmd.reason})`);
      if (estopPose && p[i] !== estopPose[i])
        fail(tick, `${d.name} = ${p[i]} left the e-stop pose ${estopPose[i]}`);
    }
    if (estopPose) {
      estopTicks++;
      if (!cmd.held || cmd.reason !== 'estop') fail(tick, `e-stop latched but command is ${cmd.reason}`);
    }
    if (!cmd.held && (target === undefined || target.some((v) => !Number.isFinite(v)))) {
      fail(tick, 'followed an action containing NaN/Inf or no action');
    }
    if (cmd.held) holds++;
    prev = p.slice();
    prevTime = now;
  }
  return { commands: options.ticks, holds, estopTicks };
}

/** A small fast seeded PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
