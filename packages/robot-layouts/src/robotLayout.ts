/** The three camera inputs of the model, in model order (upstream's `image0`, `image1`, `image2`). */
export type CameraSlot = 'head' | 'hand_left' | 'hand_right';

/** Camera slots in model order. */
export const CAMERA_SLOTS: readonly CameraSlot[] = ['head', 'hand_left', 'hand_right'];

/** The physical robots behind upstream's `robot_type` spellings. */
export type RobotName =
  'AgileX Aloha' | 'AgileX Split Aloha' | 'ARX Lift-2' | 'ARX AC One' | 'Genie-1' | 'Franka' | 'Panda';

/**
 * Which generation of upstream's tables a spelling comes from: `a1-new` (the spellings of the
 * released InternData-A1 datasets), `a1-old` (earlier snake_case spellings) or `other` (public
 * datasets such as RoboTwin's aloha and LIBERO's panda).
 */
export type LayoutGeneration = 'a1-new' | 'a1-old' | 'other';

/**
 * One `robot_type` as upstream spells it, with everything the data pipeline needs to know about
 * it. Spellings of one robot can differ in their keys (upstream's `split_aloha` has no key entry,
 * so it reads the generic `observation.state` / `action`), so each spelling is its own entry.
 */
export interface RobotLayout {
  /** `robot_type` exactly as upstream spells it (a key of its mask table). */
  readonly robotType: string;
  /** The robot this spelling names. */
  readonly robot: RobotName;
  /** Which upstream table generation the spelling belongs to. */
  readonly generation: LayoutGeneration;
  /** Run lengths of the delta mask as upstream writes them (see `makeBoolMask`). */
  readonly maskRuns: readonly number[];
  /** Per action dimension: true = predicted relative to the current state, false = absolute. */
  readonly deltaMask: readonly boolean[];
  /** Features concatenated, in order, into the state vector. */
  readonly stateKeys: readonly string[];
  /** Features concatenated, in order, into the action vector. */
  readonly actionKeys: readonly string[];
  /** Dataset image feature feeding each camera slot; slots not listed are missing cameras. */
  readonly cameras: Readonly<Partial<Record<CameraSlot, string>>>;
}
