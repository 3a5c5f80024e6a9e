import { acceptSafeCommand, type Robot, type SafeCommand } from '@vla/robot-core';

/**
 * The one place the simulator checks a command before it touches the physics: robot-core's driver
 * gate, which accepts only a genuine {@link SafeCommand} for this robot's layout, from the safety layer
 * run driving it, newer than every command accepted before.
 */
export function checkCommand(robot: Robot, cmd: unknown): asserts cmd is SafeCommand {
  acceptSafeCommand(robot, cmd);
}
