import type { Embodiment } from './embodiment.js';
import type { Robot } from './robot.js';
import { SafeCommand, acceptSafeCommand } from './safeCommand.js';
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
  /** The observation is absurd: ±1e308, or far outside a limit. */
  readonly absurdObservation: number;
  /** The action's values read finite once and NaN on every later read (a racing writer). */
  readonly changingAction: number;
  /** Release the e-stop with a measured state to re-anchor at: valid or not (NaN, wrong length, far outside, unreadable). */
  readonly resetMeasured: number;
  /** Call `start()` again mid-run (must be refused). */
  readonly restart: number;
  /** Send the robot a command it already accepted (must be refused). */
  readonly replay: number;
  /** Send the robot a command from a second layer, started where the robot is (must be refused). */
  readonly foreignLayer: number;
  /** Send this tick's command to a second robot first (must be refused there, and still work here). */
  readonly otherRobot: number;
  /** `stop()` the run and `start()` a new one, where the robot is or anywhere (only the first is followed). */
  readonly handover: number;
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
  /**
   * `brand-only`: the simulated driver accepts every genuine SafeCommand (what drivers did before
   * `acceptSafeCommand`); for negative controls that prove the driver-side checks fail. Default `gate`.
   */
  readonly driverCheck?: 'gate' | 'brand-only';
}

/** What a fuzz run saw. */
export interface SafetyFuzzResult {
  /** Commands checked. */
  readonly commands: number;
  /** Of which holds. */
  readonly holds: number;
  /** Ticks during which the e-stop was latched. */
  readonly estopTicks: number;
  /** Observations the layer rejected (each one checked to be exactly those that break the rules). */
  readonly rejectedObservations: number;
  /** `resetEmergencyStop(measured)` calls that re-anchored and released the latch. */
  readonly resetsAccepted: number;
  /** `resetEmergencyStop(measured)` calls that threw and left latch and pose as they were. */
  readonly resetsRefused: number;
  /** Commands the simulated robot accepted (each checked for continuity with the one before). */
  readonly accepted: number;
  /** Replays, foreign layers' commands and commands sent to the wrong robot, all refused. */
  readonly attacksRefused: number;
  /** Commands of chains anchored away from the robot, refused. */
  readonly chainsRefused: number;
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
  absurdObservation: 0.02,
  changingAction: 0.03,
  resetMeasured: 0.04,
  restart: 0.01,
  replay: 0.03,
  foreignLayer: 0.02,
  otherRobot: 0.02,
  handover: 0.01,
  estop: 0.02,
  reset: 0.04,
  clockGlitch: 0.03,
};

/**
 * Drives a fresh {@link SafetyLayer} for `embodiment` through a seeded random sequence of actions
 * (wide, huge, NaN, ±Inf, missing, wrong length, stale, changing between reads), observations (fresh,
 * missing, NaN, absurd), clock jitter and glitches, e-stops, resets with and without a measured state
 * (valid or not), and attempts to restart mid-run, and checks every emitted command against its own
 * reading of the rules, independent of the layer's code: finite, inside every position limit, within
 * `maxVelocity × velocityScale × min(period, elapsed)` of the previous command (or of the measured
 * state a valid reset re-anchored at), an exact repeat of the previous command whenever held, held
 * while the newest observation was rejected, and equal to the pose held at the e-stop for as long as it
 * is latched. A reset with a bad measured state must throw and leave the latch and the pose as they
 * were; a restart must throw.
 *
 * Every command then goes to a simulated robot behind {@link acceptSafeCommand}, which is attacked
 * too: replays, commands from a second layer, the same command sent to a second robot, runs stopped
 * and restarted, and re-anchors near the robot or anywhere. The checker's own reading of the driver
 * rule: the robot refuses every attack, follows each chain anchored within half the anchor tolerance
 * (`maxVelocity × 2 / controlHz`) of where it is, refuses each chain anchored more than 1.5 times it
 * away, and everything it accepts stays inside the limits and within
 * `maxVelocity × velocityScale × min(steps × period, elapsed)` of the command it accepted before (plus
 * the anchor tolerance where a new chain began). Throws an Error describing the first violation (tick,
 * dim, values).
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

  // The driver side: a robot that executes what its gate accepts and reports it as its state.
  const brandOnly = options.driverCheck === 'brand-only';
  const anchorTol = e.dims.map((d) => (2 * d.maxVelocity) / e.controlHz);
  let robotPose = start.slice();
  const simulatedRobot = (): Robot => ({
    embodiment: e,
    observe: () => ({ state: Float64Array.from(robotPose), images: {}, timestampMs: now }),
    command(cmd) {
      if (brandOnly) {
        if (!SafeCommand.isSafeCommand(cmd)) throw new Error('not a SafeCommand');
      } else acceptSafeCommand(this, cmd);
    },
  });
  const robot = simulatedRobot();
  const secondRobot = simulatedRobot();
  const accepts = (r: Robot, cmd: SafeCommand): boolean => !throws(() => r.command(cmd));
  // Chains: every start or re-anchor begins one. `near` must be followed, `far` refused, `unsure` either.
  type Chain = { id: number; kind: 'near' | 'far' | 'unsure'; live: boolean };
  let chainId = 0;
  const chainAt = (anchor: readonly number[]): Chain => {
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(anchor[i] - robotPose[i]) / anchorTol[i]);
    return { id: ++chainId, kind: worst <= 0.5 ? 'near' : worst > 1.5 ? 'far' : 'unsure', live: false };
  };
  let chain = chainAt(prev);
  // The robot follows the current run (it accepted one of its commands): attacks must fail then.
  let runBound = false;
  // Time within a run never decreases; the checker keeps its own run clock.
  let runClock = now;
  let lastAccepted:
    { positions: readonly number[]; sequence: number; time: number; chain: number } | undefined;
  const history: SafeCommand[] = [];
  let other: SafetyLayer | undefined;
  let accepted = 0;
  let attacksRefused = 0;
  let chainsRefused = 0;
  // Somewhere to re-anchor: where the robot is (within 0.4 of the tolerance), or anywhere.
  const measuredPose = (): number[] =>
    rnd() < 0.5
      ? e.dims.map((d, i) =>
          Math.min(d.upper, Math.max(d.lower, robotPose[i] + anchorTol[i] * uniformIn(-0.4, 0.4))),
        )
      : e.dims.map((d) => uniformIn(d.lower, d.upper));
  let estopPose: readonly number[] | undefined;
  let holds = 0;
  let estopTicks = 0;
  let rejectedObservations = 0;
  let resetsAccepted = 0;
  let resetsRefused = 0;
  let observationRejected = false;
  // The independent reading of the observation rule: every value finite and within 10% of the range.
  const observationOk = (obs: readonly number[]) =>
    obs.every((v, i) => {
      const d = e.dims[i];
      const slack = 0.1 * (d.upper - d.lower);
      return Number.isFinite(v) && v >= d.lower - slack && v <= d.upper + slack;
    });
  const throws = (fn: () => void): boolean => {
    try {
      fn();
      return false;
    } catch {
      return true;
    }
  };
  const fail = (tick: number, what: string): never => {
    throw new Error(`safety fuzz ${e.robotType} seed ${options.seed} tick ${tick}: ${what}`);
  };

  for (let tick = 0; tick < options.ticks; tick++) {
    now += rnd() < rates.clockGlitch ? (rnd() < 0.5 ? 0 : -period * rnd() * 3) : period * uniformIn(0.2, 1.8);
    runClock = Math.max(runClock, now);
    if (rnd() >= rates.skipObservation) {
      const obs = e.dims.map((d) => uniformIn(d.lower, d.upper));
      if (rnd() < rates.badObservation) obs[Math.floor(rnd() * n)] = Number.NaN;
      if (rnd() < rates.absurdObservation) {
        const i = Math.floor(rnd() * n);
        const d = e.dims[i];
        const far = (d.upper - d.lower) * uniformIn(0.2, 1e6);
        obs[i] = rnd() < 0.3 ? (rnd() < 0.5 ? -1e308 : 1e308) : rnd() < 0.5 ? d.lower - far : d.upper + far;
      }
      const ok = observationOk(obs);
      if (safety.observe(obs, now) !== ok) fail(tick, `observe(${obs.join(', ')}) returned ${!ok}`);
      if (!ok && !safety.observationError) fail(tick, 'rejected observation without an error');
      observationRejected = !ok;
      if (!ok) rejectedObservations++;
    }
    if (rnd() < rates.estop) {
      if (!estopPose) estopPose = prev.slice();
      safety.emergencyStop();
    }
    if (rnd() < rates.reset) {
      safety.resetEmergencyStop();
      estopPose = undefined;
    }
    if (rnd() < rates.restart) {
      const before = safety.lastCommand;
      const upper = e.dims.map((d) => d.upper);
      if (!throws(() => safety.start(upper, now))) fail(tick, 'start() accepted mid-run');
      if (safety.lastCommand !== before) fail(tick, 'a refused start() changed the last command');
    }
    if (rnd() < rates.handover && !estopPose) {
      safety.stop();
      const at = measuredPose();
      safety.start(at, now);
      prev = safety.lastCommand!.positions.slice();
      prevTime = now;
      runClock = now;
      chain = chainAt(prev);
      runBound = false;
    }
    if (rnd() < rates.resetMeasured) {
      const latched = estopPose !== undefined;
      const good = measuredPose();
      const kind = Math.floor(rnd() * 5); // 0, 1: valid; 2: NaN; 3: wrong length; 4: far outside or unreadable
      let measured: ArrayLike<number> = good;
      const bad = Math.floor(rnd() * n);
      if (kind === 2) measured = good.map((v, i) => (i === bad ? Number.NaN : v));
      if (kind === 3) measured = good.slice(1);
      if (kind === 4)
        measured =
          rnd() < 0.5
            ? good.map((v, i) => (i === bad ? e.dims[i].upper + (e.dims[i].upper - e.dims[i].lower) : v))
            : unreadable(n);
      const valid = kind <= 1 && latched;
      const before = safety.lastCommand;
      const threw = throws(() => safety.resetEmergencyStop(measured, now));
      if (threw === valid)
        fail(tick, `resetEmergencyStop(kind ${kind}, latched ${latched}) ${threw ? 'threw' : 'passed'}`);
      if (valid) {
        resetsAccepted++;
        if (safety.estopped) fail(tick, 'a valid reset left the e-stop latched');
        const anchor = safety.lastCommand!.positions;
        for (let i = 0; i < n; i++)
          if (anchor[i] !== good[i])
            fail(tick, `re-anchored ${e.dims[i].name} at ${anchor[i]}, measured ${good[i]}`);
        estopPose = undefined;
        prev = anchor.slice();
        prevTime = now;
        chain = chainAt(prev);
      } else {
        resetsRefused++;
        if (safety.estopped !== latched)
          fail(tick, `a refused reset changed the latch to ${safety.estopped}`);
        if (safety.lastCommand !== before) fail(tick, 'a refused reset changed the last command');
      }
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
    const given = target && rnd() < rates.changingAction ? changing(target) : target;

    const cmd = safety.step(given, now, actionTime);
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
    if (observationRejected && !cmd.held)
      fail(tick, 'followed an action while the newest observation was rejected');
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

    // Attacks on the driver, each of which must be refused without changing what it accepts next.
    if (history.length > 0 && rnd() < rates.replay) {
      if (accepts(robot, history[Math.floor(rnd() * history.length)]))
        fail(tick, 'the robot accepted a replay');
      attacksRefused++;
    }
    if (runBound && rnd() < rates.foreignLayer) {
      other ??= new SafetyLayer(e, { observationTimeoutMs: 1e12, actionTimeoutMs: 1e12 });
      if (!other.started) {
        other.observe(robotPose, now);
        other.start(robotPose, now);
      }
      other.observe(robotPose, now);
      const foreign = other.step(robotPose, now);
      if (accepts(robot, foreign)) fail(tick, "the robot accepted a second layer's command");
      attacksRefused++;
    }
    if (runBound && rnd() < rates.otherRobot) {
      if (accepts(secondRobot, cmd))
        fail(tick, 'a second robot accepted a command of the layer driving the first');
      attacksRefused++;
    }

    // The command itself: followed or refused as the chain's kind demands, then checked for continuity.
    const ok = accepts(robot, cmd);
    if (!ok) {
      if (chain.live || chain.kind === 'near')
        fail(tick, `the robot refused #${cmd.sequence} of a chain it must follow (${chain.kind})`);
      chainsRefused++;
      continue;
    }
    if (chain.kind === 'far') fail(tick, `the robot accepted #${cmd.sequence}, anchored far from it`);
    const newChain = !lastAccepted || lastAccepted.chain !== chain.id;
    const steps = lastAccepted ? cmd.sequence - lastAccepted.sequence : 0;
    const dt = lastAccepted ? Math.max(0, Math.min(steps * period, runClock - lastAccepted.time)) / 1000 : 0;
    for (let i = 0; i < n; i++) {
      const d = e.dims[i];
      const moved = Math.abs(p[i] - robotPose[i]);
      const bound = d.maxVelocity * scale * dt + (newChain ? anchorTol[i] : 0);
      if (moved > bound * (1 + 1e-9) + 1e-9 * (d.upper - d.lower))
        fail(
          tick,
          `the robot accepted a move of ${d.name} by ${moved} > ${bound} (dt ${dt}, new chain ${newChain})`,
        );
    }
    chain.live = true;
    runBound = true;
    lastAccepted = { positions: p, sequence: cmd.sequence, time: runClock, chain: chain.id };
    robotPose = p.slice();
    history.push(cmd);
    if (history.length > 8) history.shift();
    accepted++;
  }
  return {
    commands: options.ticks,
    holds,
    estopTicks,
    rejectedObservations,
    resetsAccepted,
    resetsRefused,
    accepted,
    attacksRefused,
    chainsRefused,
  };
}

// Reads each element as its value once, then as NaN: what a racing writer does between check and use.
function changing(values: readonly number[]): ArrayLike<number> {
  const out: { length: number; [i: number]: number } = { length: values.length };
  values.forEach((v, i) => {
    let read = false;
    Object.defineProperty(out, i, {
      get: () => (read ? Number.NaN : ((read = true), v)),
    });
  });
  return out;
}

// An ArrayLike of length n whose elements throw when read.
function unreadable(n: number): ArrayLike<number> {
  return new Proxy({ length: n } as ArrayLike<number>, {
    get: (t, k) => {
      if (k === 'length') return n;
      throw new Error('sensor buffer detached');
    },
  });
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
