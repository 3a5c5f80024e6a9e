import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, RosbridgeRobot, SafetyLayer } from '../src/index.js';
import { RosbridgeTestServer, waitUntil } from '../src/testing.js';
import { toyEmbodiment } from './fakes.js';

let server: RosbridgeTestServer | undefined;
let robot: RosbridgeRobot | undefined;
afterEach(async () => {
  robot?.close();
  await server?.stop();
});

function toyRobot(url: string, clock: FakeClock) {
  return new RosbridgeRobot({
    embodiment: toyEmbodiment,
    url,
    clock,
    backoff: { initialMs: 50 },
    state: [
      {
        topic: '/toy/state',
        messageType: 'std_msgs/Float64MultiArray',
        read: (msg: { data?: number[] }, s) => {
          if (!Array.isArray(msg.data) || msg.data.length !== 3) return false;
          s.set(msg.data);
          return true;
        },
      },
    ],
    commands: [
      {
        topic: '/toy/cmd',
        messageType: 'std_msgs/Float64MultiArray',
        build: (p) => ({ layout: { dim: [], data_offset: 0 }, data: [...p] }),
      },
    ],
    cameras: [{ name: 'head', topic: '/toy/cam', kind: 'compressed' }],
  });
}

describe('protocol test: in-process rosbridge server', () => {
  it('generic RosbridgeRobot: one subscribe per topic, resubscribe after a drop, no queued commands, clean unsubscribe', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    robot = toyRobot(server.url, clock);
    robot.connect();
    await waitUntil(() => server!.subscriptions().size === 2, 'subscriptions');
    expect(
      server.received.filter((o) => o.op === 'subscribe').map((o) => [o.topic, o.type, o.queue_length]),
    ).toEqual([
      ['/toy/state', 'std_msgs/Float64MultiArray', 1],
      ['/toy/cam', 'sensor_msgs/CompressedImage', 1],
    ]);
    server.publish('/toy/state', { data: [1, 2, 0.5] });
    await waitUntil(() => robot!.observe() !== undefined, 'state');
    const safety = new SafetyLayer(toyEmbodiment);
    safety.observe(robot.observe()!.state, 0);
    safety.start(robot.observe()!.state, 0);
    const cmd = () => safety.step([1, 2, 0.5], 0);

    server.dropClients();
    await waitUntil(() => !robot!.connection.connected, 'drop noticed');
    const dropped = cmd();
    robot.command(dropped);
    robot.command(cmd());
    expect(robot.stats.commandsDropped).toBe(2);
    // A dropped command is used up: it cannot be sent later.
    expect(() => robot!.command(dropped)).toThrow(/not newer/);
    const mark = server.received.length;
    await clock.advance(50);
    await waitUntil(() => server!.subscriptions().size === 2, 'resubscribed');
    // Exactly one subscribe per topic after the reconnect, and none of the dropped commands replayed.
    const after = server.received.slice(mark);
    expect(after.filter((o) => o.op === 'subscribe').length).toBe(2);
    expect(after.filter((o) => o.op === 'publish').length).toBe(0);

    robot.command(cmd());
    const pub = await server.waitFor((o) => o.op === 'publish' && o.topic === '/toy/cmd', mark);
    expect((pub.msg as { data: number[] }).data).toEqual([1, 2, 0.5]);
    const mark2 = server.received.length;
    robot.close();
    robot = undefined;
    await server.waitFor((o) => o.op === 'unsubscribe' && o.topic === '/toy/state', mark2);
    await server.waitFor((o) => o.op === 'unadvertise' && o.topic === '/toy/cmd', mark2);
  });
});
