import type { Clock, Observation, Robot, RobotStatus, SafeCommand } from '@vla/robot-core';
import type { SimEnv } from '@vla/sim';

/**
 * The simulated robot of `env` as the executor's Robot, its observations stamped on the run's clock
 * (the SimRobot stamps world time, which restarts every episode; the safety layer needs one clock).
 */
export function simRobotView(env: SimEnv, clock: Clock): Robot {
  const robot = env.robot;
  return {
    embodiment: robot.embodiment,
    observe: (): Observation => ({ ...robot.observe(), timestampMs: clock.now() }),
    command: (cmd: SafeCommand) => robot.command(cmd),
    status: (): RobotStatus => robot.status(),
  };
}
