import { beforeAll, describe, expect, it } from 'vitest';
import {
  COLOURS,
  SIM_ROBOT_NAMES,
  ScriptedExpert,
  SimEnv,
  inBin,
  loadMujoco,
  simRobot,
  type Mujoco,
  type SimWorld,
} from '../src/index.js';

let mj: Mujoco;
beforeAll(async () => {
  mj = await loadMujoco();
});

/** Runs the expert for one episode without cameras; `watch` sees the world after every tick. */
async function runExpert(task: string, robot: string, seed: number, watch?: (w: SimWorld) => void) {
  const env = await SimEnv.create({ task, robot, camera: null, mujoco: mj });
  env.reset(seed);
  const expert = new ScriptedExpert(env);
  let r;
  do {
    r = env.step(expert.act());
    watch?.(env.world);
  } while (!r.done);
  expert.delete();
  return { env, success: r.success, steps: env.stepCount };
}

/** The objects' checks that do not trust the task's own: every object's place, by name and colour. */
function checkPickPlace(env: SimEnv) {
  const inst = env.instance;
  const bin = inst.goals[0].bin;
  for (const o of inst.layout.objects)
    expect(inBin(env.world, o.name, bin)).toBe(o.name === inst.goals[0].object);
  const named = inst.layout.objects.find((o) => o.name === inst.goals[0].object)!;
  // The instruction names the moved object's colour (and only one object has it).
  const said = Object.keys(COLOURS).filter((c) => inst.instruction.includes(c));
  expect(said).toHaveLength(1);
  expect(named.rgba).toEqual(COLOURS[said[0]]);
}

function checkConveyor(env: SimEnv) {
  for (const g of env.instance.goals) {
    const parcel = env.instance.layout.objects.find((o) => o.name === g.object)!;
    expect(g.bin.rgba).toEqual(parcel.rgba);
    expect(inBin(env.world, g.object, g.bin)).toBe(true);
  }
}

describe('conveyor belt', () => {
  it('the belt moves parcels, and a robot that only holds its pose sorts nothing (negative control)', async () => {
    const env = await SimEnv.create({ task: 'conveyor-sort', robot: 'lift2', camera: null, mujoco: mj });
    env.reset(0);
    const y0 = env.world.pose('parcel0').pos[1];
    let r;
    for (let t = 0; t < 30; t++) r = env.step(undefined);
    const speed = -env.instance.belt!.velocity[1];
    expect(y0 - env.world.pose('parcel0').pos[1]).toBeGreaterThan(0.7 * speed);
    expect(r!.success).toBe(false);
    expect(r!.command.reason).toBe('no-action');
  });
});

// Two seeds per task and embodiment, without cameras: the full count (50 seeds) is the bench's.
describe.each(SIM_ROBOT_NAMES)('scripted experts on %s', (robot) => {
  it.each([0, 1])(
    'pick-place seed %i: the named object ends in the bin, the distractors do not',
    async (seed) => {
      const { env, success } = await runExpert('pick-place', robot, seed);
      expect(success).toBe(true);
      checkPickPlace(env);
      env.delete();
    },
  );

  it.each([0, 1])(
    'conveyor-sort seed %i: both parcels, picked in motion, end in the bins of their colour',
    async (seed) => {
      const { env, success } = await runExpert('conveyor-sort', robot, seed);
      expect(success).toBe(true);
      checkConveyor(env);
      env.delete();
    },
  );

  it.each([0, 1])(
    'handover seed %i: the left hand lets go only once the right holds the bar, which ends in the bin',
    async (seed) => {
      const fingers = (side: string) => [`${side}_gripper_finger1`, `${side}_gripper_finger2`];
      let rightAlone = 0;
      let unheldInAir = 0;
      const top = simRobot(robot).tableHeight;
      const { env, success } = await runExpert('handover', robot, seed, (w) => {
        const bar = w.layout.objects[0];
        const p = w.pose(bar.name).pos;
        const bin = w.layout.bins[0];
        const overBin =
          Math.abs(p[0] - bin.pos[0]) < bin.half[0] && Math.abs(p[1] - bin.pos[1]) < bin.half[1];
        if (p[2] - bar.size[2] < top + 0.015) return;
        const touching = w.contactsOf(bar.name);
        const left = fingers('left').some((f) => touching.has(f));
        const right = fingers('right').every((f) => touching.has(f));
        if (right && !left) rightAlone++;
        // In the air and held by no finger: only the drop into the bin may do that.
        if (!left && !fingers('right').some((f) => touching.has(f)) && !overBin) unheldInAir++;
      });
      expect(success).toBe(true);
      expect(rightAlone).toBeGreaterThan(10);
      expect(unheldInAir).toBe(0);
      const inst = env.instance;
      expect(inBin(env.world, inst.goals[0].object, inst.goals[0].bin)).toBe(true);
      // The distractor stays where it was.
      expect(inBin(env.world, inst.layout.objects[1].name, inst.goals[0].bin)).toBe(false);
      env.delete();
    },
  );
});

describe('handover task', () => {
  it('does not count a bar put in the bin without a handover (negative control)', async () => {
    const env = await SimEnv.create({ task: 'handover', robot: 'lift2', camera: null, mujoco: mj });
    env.reset(3);
    const w = env.world;
    const { object, bin } = env.instance.goals[0];
    // Teleport the bar into the bin: it is there, but no right hand ever held it.
    const adr = (w.model.jnt_qposadr as Int32Array)[
      mj.mj_name2id(w.model, mj.mjtObj.mjOBJ_JOINT.value, `${object}_free`)
    ];
    const qpos = w.data.qpos as Float64Array;
    qpos.set([bin.pos[0], bin.pos[1], bin.pos[2] + 0.03, Math.SQRT1_2, 0, 0, Math.SQRT1_2], adr);
    mj.mj_forward(w.model, w.data);
    let r;
    for (let t = 0; t < 10; t++) r = env.step(undefined);
    expect(inBin(w, object, bin)).toBe(true);
    expect(r!.success).toBe(false);
    env.delete();
  });

  it('names the bar by its colour and varies the wording with the seed', async () => {
    const env = await SimEnv.create({ task: 'handover', robot: 'genie1', camera: null, mujoco: mj });
    const said = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const obs = env.reset(seed);
      const bar = env.instance.layout.objects[0];
      const colours = Object.keys(COLOURS).filter((c) => obs.instruction.includes(c));
      expect(colours).toHaveLength(1);
      expect(bar.rgba).toEqual(COLOURS[colours[0]]);
      said.add(obs.instruction);
    }
    expect(said.size).toBeGreaterThan(3);
    env.delete();
  });
});
