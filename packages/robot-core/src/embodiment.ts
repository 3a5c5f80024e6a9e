/** What a dimension of the state/action vector is: an arm (or body) joint, or a gripper. */
export type DimKind = 'joint' | 'gripper';

/** Physical unit of a dimension in robot space. `vendor` means a unit defined by the vendor's driver. */
export type DimUnit = 'rad' | 'm' | 'vendor';

/**
 * How a gripper dimension is stored in the dataset the policy was trained on: the dataset value at the
 * robot's lower and upper limit, mapped linearly in between. Genie-1 stores 0 = open, 1 = closed while
 * the robot measures an opening width in metres, so `{ atLower: 1, atUpper: 0 }`.
 */
export interface DatasetConvention {
  /** Dataset value when the robot reads its `lower` limit. */
  readonly atLower: number;
  /** Dataset value when the robot reads its `upper` limit. */
  readonly atUpper: number;
  /** One line on what the convention is and where it comes from. */
  readonly description: string;
}

/** One dimension of an embodiment's state/action layout, in robot units. */
export interface DimSpec {
  /** Name, e.g. `left_joint3` or `right_gripper`. Also the joint name in the MJCF description. */
  readonly name: string;
  /** Joint or gripper. */
  readonly kind: DimKind;
  /** Unit of `lower`, `upper`, `maxVelocity` and of every value on this dimension. */
  readonly unit: DimUnit;
  /** Lower position limit (robot units). */
  readonly lower: number;
  /** Upper position limit (robot units). */
  readonly upper: number;
  /** Largest speed the safety layer lets a command move this dimension, in units per second. */
  readonly maxVelocity: number;
  /** True when the policy predicts this dimension as a delta on the current state (joints), false when absolute (grippers). */
  readonly delta: boolean;
  /** Dataset convention of a gripper; omitted means the dataset stores robot units unchanged. */
  readonly dataset?: DatasetConvention;
  /** Set when a number here is not from a vendor or the spec but chosen conservatively; says which and why. */
  readonly assumed?: string;
}

/** A camera the robot streams to the policy. */
export interface CameraSpec {
  /** Policy-side camera name (`head`, `hand_left`, `hand_right`). */
  readonly name: string;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Frame rate. */
  readonly fps: number;
  /** Set when the size or rate is assumed rather than known. */
  readonly assumed?: string;
}

/**
 * Everything a policy runtime needs to know about a robot, as data: the upstream `robot_type` key, the
 * ordered state/action layout (names, limits, velocity limits, delta mask, gripper conventions),
 * cameras, control rate and a home pose. State and action share the layout.
 */
export interface Embodiment {
  /** Upstream robot_type key, e.g. `Genie-1`, `ARX Lift-2`, `ARX AC One`. */
  readonly robotType: string;
  /** State/action layout in order. */
  readonly dims: readonly DimSpec[];
  /** Cameras in the policy's order. */
  readonly cameras: readonly CameraSpec[];
  /** Control loop rate in Hz (one action per tick). */
  readonly controlHz: number;
  /** A pose inside the limits, in robot units, one value per dim. */
  readonly home: readonly number[];
}

/**
 * Checks an embodiment and returns it frozen. Throws an Error naming the robot and dimension when a
 * limit is inverted or not finite, a velocity is not positive, names repeat, or home is outside limits.
 */
export function defineEmbodiment(e: Embodiment): Embodiment {
  const where = `embodiment "${e.robotType}"`;
  if (!e.robotType) throw new Error('embodiment: robotType is empty');
  if (e.dims.length === 0) throw new Error(`${where}: no dims`);
  if (!(e.controlHz > 0) || !Number.isFinite(e.controlHz)) {
    throw new Error(`${where}: controlHz must be a positive number, got ${e.controlHz}`);
  }
  const seen = new Set<string>();
  e.dims.forEach((d, i) => {
    if (seen.has(d.name)) throw new Error(`${where}: dim name "${d.name}" repeats (index ${i})`);
    seen.add(d.name);
    if (!Number.isFinite(d.lower) || !Number.isFinite(d.upper) || !(d.lower < d.upper)) {
      throw new Error(`${where}: dim "${d.name}" needs finite lower < upper, got [${d.lower}, ${d.upper}]`);
    }
    if (!(d.maxVelocity > 0) || !Number.isFinite(d.maxVelocity)) {
      throw new Error(`${where}: dim "${d.name}" needs a positive maxVelocity, got ${d.maxVelocity}`);
    }
    if (d.kind === 'gripper' && d.delta)
      throw new Error(`${where}: gripper "${d.name}" cannot be a delta dim`);
    if (d.dataset && d.dataset.atLower === d.dataset.atUpper) {
      throw new Error(
        `${where}: dim "${d.name}" dataset convention maps both limits to ${d.dataset.atLower}`,
      );
    }
  });
  if (e.home.length !== e.dims.length) {
    throw new Error(`${where}: home has ${e.home.length} values, layout has ${e.dims.length}`);
  }
  e.home.forEach((v, i) => {
    const d = e.dims[i];
    if (!(v >= d.lower && v <= d.upper)) {
      throw new Error(`${where}: home ${v} for "${d.name}" is outside [${d.lower}, ${d.upper}]`);
    }
  });
  const cams = new Set<string>();
  for (const c of e.cameras) {
    if (cams.has(c.name)) throw new Error(`${where}: camera "${c.name}" repeats`);
    cams.add(c.name);
    if (!(c.width > 0 && c.height > 0 && c.fps > 0))
      throw new Error(`${where}: camera "${c.name}" has a bad size or rate`);
  }
  return Object.freeze({
    ...e,
    dims: Object.freeze(e.dims.map((d) => Object.freeze({ ...d }))),
    cameras: Object.freeze(e.cameras.map((c) => Object.freeze({ ...c }))),
    home: Object.freeze([...e.home]),
  });
}

/**
 * Why a measured state is not a believable reading of `e`, or undefined when it is: a value that is not
 * a finite number, or that lies further outside its dim's limits than `tolerance` × the dim's range.
 * `values` must already be the caller's own copy (see the safety layer's read-once rule). The text
 * names the dim and value, e.g. `left_joint1 = 1e+308 is outside [-3.14, 3.14] by more than 10% of the
 * range`; callers prefix where it came from.
 */
export function measuredStateProblem(
  e: Embodiment,
  values: readonly unknown[],
  tolerance: number,
): string | undefined {
  if (values.length !== e.dims.length) return `${values.length} values, layout has ${e.dims.length}`;
  for (let i = 0; i < values.length; i++) {
    const d = e.dims[i];
    const v = values[i];
    if (typeof v !== 'number') return `${d.name} is ${String(v)} (${v === null ? 'null' : typeof v})`;
    if (!Number.isFinite(v)) return `${d.name} is ${v}`;
    const slack = tolerance * (d.upper - d.lower);
    if (v < d.lower - slack || v > d.upper + slack) {
      return `${d.name} = ${v} is outside [${d.lower}, ${d.upper}] by more than ${+(tolerance * 100).toPrecision(6)}% of the range`;
    }
  }
  return undefined;
}

/** The delta mask of an embodiment: true where the policy predicts deltas. */
export function deltaMask(e: Embodiment): boolean[] {
  return e.dims.map((d) => d.delta);
}

/**
 * `e` with each dim's `delta` flag taken from `mask`, e.g. a layout table's delta mask, so a robot
 * package does not keep its own copy of which dims are deltas. Throws naming the robot when the
 * mask's length differs from the layout's; `defineEmbodiment` then rejects a delta gripper.
 */
export function withDeltaMask(e: Embodiment, mask: readonly boolean[]): Embodiment {
  if (mask.length !== e.dims.length) {
    throw new Error(
      `embodiment "${e.robotType}": delta mask has ${mask.length} entries, layout has ${e.dims.length} dims`,
    );
  }
  return { ...e, dims: e.dims.map((d, i) => ({ ...d, delta: mask[i] })) };
}

/** Index of a dim by name; throws naming the robot and the missing name. */
export function dimIndex(e: Embodiment, name: string): number {
  const i = e.dims.findIndex((d) => d.name === name);
  if (i < 0) throw new Error(`embodiment "${e.robotType}" has no dim "${name}"`);
  return i;
}

/** Tick period of the control loop in milliseconds. */
export function tickPeriodMs(e: Embodiment): number {
  return 1000 / e.controlHz;
}

/**
 * Builds the dims of one arm side: `joints` named `${side}_joint${k}` with the given limits and
 * velocities, then optionally a gripper dim. A helper for robot packages; limits are data.
 */
export function armDims(
  side: 'left' | 'right',
  joints: ReadonlyArray<{ lower: number; upper: number; maxVelocity: number; assumed?: string }>,
): DimSpec[] {
  return joints.map((j, k) => ({
    name: `${side}_joint${k + 1}`,
    kind: 'joint' as const,
    unit: 'rad' as const,
    lower: j.lower,
    upper: j.upper,
    maxVelocity: j.maxVelocity,
    delta: true,
    ...(j.assumed ? { assumed: j.assumed } : {}),
  }));
}
