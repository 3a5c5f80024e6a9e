// A ROS robot run against a real rosbridge-protocol WebSocket server (robot-core's in-process test
// server): the ARX Lift-2 driver on the system clock, a toy arm in the test that publishes
// JointInformation at 30 Hz and follows the JointControl commands it receives. The policy moves the
// first joint of each arm; dropping the connection makes every later command hold where the arm was.
import { afterEach, describe, expect, it } from 'vitest';
import { POLICY_DIM, type ActionSource, type SafeCommand } from '@vla/robot-core';
import { RosbridgeTestServer, waitUntil } from '@vla/robot-core/testing';
import { LIFT2 } from '@vla/robots-arx';
import { sharedEpisodes } from '../src/episodeSource.js';
import { RunControl } from '../src/runControl.js';
import { createRosRobot, runRobot } from '../src/rosRun.js';

let server: RosbridgeTestServer | undefined;
let pump: ReturnType<typeof setInterval> | undefined;
afterEach(async () => {
  if (pump) clearInterval(pump);
  await server?.stop();
  server = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('vla-control on a ROS robot', () => {
  it('drives the arm through rosbridge; a dropped connection stops motion (holds)', async () => {
    server = await RosbridgeTestServer.start();
    const s = server;
    // The toy arm: 14 dims (two arms of 6 joints + gripper), home pose, follows what it is told.
    const q = Float64Array.from(LIFT2.home);
    pump = setInterval(() => {
      for (let i = s.received.length - 1, seen = new Set<string>(); i >= 0 && seen.size < 2; i--) {
        const op = s.received[i];
        if (op.op !== 'publish' || seen.has(op.topic as string)) continue;
        seen.add(op.topic as string);
        const pos = (op.msg as { joint_pos: number[] }).joint_pos;
        if (op.topic === '/joint_control') q.set(pos, 0);
        if (op.topic === '/joint_control2') q.set(pos, 7);
      }
      s.publish('/joint_information', { joint_pos: Array.from(q.subarray(0, 7)) });
      s.publish('/joint_information2', { joint_pos: Array.from(q.subarray(7, 14)) });
    }, 1000 / 30);

    // The policy: +0.02 rad per row on joint 0 of each arm from the request's state, absolute.
    const requests: number[] = [];
    const source: ActionSource = (req) => {
      requests.push(req.timestampMs);
      const H = 20;
      const actions = new Float32Array(H * POLICY_DIM);
      for (let h = 0; h < H; h++) {
        actions.set(req.state.subarray(0, LIFT2.dims.length), h * POLICY_DIM);
        actions[h * POLICY_DIM] += 0.02 * (h + 1);
        actions[h * POLICY_DIM + 7] += 0.02 * (h + 1);
      }
      return Promise.resolve({ actions, horizon: H, dim: POLICY_DIM, absolute: true });
    };
    const robot = createRosRobot('arx-lift2', { url: s.url, cameraStaleAfterMs: Infinity });
    robot.connect();
    const control = new RunControl();
    const commands: { at: number; cmd: SafeCommand }[] = [];
    const run = runRobot({
      robot,
      robotName: 'arx-lift2',
      openEpisode: sharedEpisodes(source),
      strategy: { kind: 'chunk', executeSteps: 10 },
      prompt: 'wave',
      control,
      listener: { tick: (t) => commands.push({ at: performance.now(), cmd: t.command }) },
    });
    await waitUntil(
      () => commands.filter((c) => !c.cmd.held).length >= 15,
      'the arm follows the policy',
      10_000,
    );
    const moving = commands.filter((c) => !c.cmd.held);
    const j0 = moving.map((c) => c.cmd.positions[0]);
    expect(j0[j0.length - 1]).toBeGreaterThan(j0[0] + 0.05);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    // The published commands carry the safe positions: JointControl joint_pos of the left arm.
    const pub = s.received.filter((o) => o.op === 'publish' && o.topic === '/joint_control');
    expect(pub.length).toBeGreaterThan(10);

    // Drop the link: the driver's state goes stale or missing and the safety layer holds from then on.
    if (pump) clearInterval(pump);
    s.dropClients();
    await s.stop();
    const dropAt = performance.now();
    await sleep(700);
    control.stop();
    const summary = await run;
    const after = commands.filter((c) => c.at > dropAt + 400);
    expect(after.length).toBeGreaterThan(5);
    expect(after.every((c) => c.cmd.held)).toBe(true);
    const p0 = after[0].cmd.positions;
    for (const c of after) expect(c.cmd.positions).toEqual(p0);
    expect(new Set(after.map((c) => c.cmd.reason)).has('estop')).toBe(false);
    expect(summary.stopped).toBe(true);
    expect(summary.withinLimits).toBe(true);
    expect(summary.holds).toBeGreaterThan(after.length - 1);
  });
});
