import type { SafetyLayer } from '@vla/robot-core';

/**
 * The operator's handle on a running loop (keyboard, dashboard, signals): emergency stop and its
 * reset on the safety layer in use, a clean stop (the loop holds, then returns), the instruction.
 * The run loop attaches the safety layer of the robot it drives.
 */
export class RunControl {
  private safety: SafetyLayer | undefined;
  private readonly abort = new AbortController();
  private estops = 0;
  /** Current task instruction sent with every request (empty: the task's own). */
  instruction = '';
  /** Called whenever the state changes (running, e-stop, instruction). */
  onChange: (() => void) | undefined;

  /** The loop's safety layer (the loop calls this when it starts a robot or an episode). */
  attach(safety: SafetyLayer | undefined): void {
    this.safety = safety;
  }

  /** Latched emergency stop: every later command holds until {@link RunControl.resetEmergencyStop}. */
  emergencyStop(): void {
    if (this.safety && !this.safety.estopped) this.estops++;
    this.safety?.emergencyStop();
    this.onChange?.();
  }

  /** Clears the e-stop; motion restarts from the measured state. */
  resetEmergencyStop(): void {
    this.safety?.resetEmergencyStop();
    this.onChange?.();
  }

  /** True while the attached safety layer is e-stopped. */
  get estopped(): boolean {
    return this.safety?.estopped ?? false;
  }

  /** E-stops triggered through this handle. */
  get emergencyStops(): number {
    return this.estops;
  }

  /** Ask the loop to end: it holds the robot, then returns its summary. */
  stop(): void {
    this.abort.abort();
    this.onChange?.();
  }

  /** True after {@link RunControl.stop}. */
  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** Aborted by {@link RunControl.stop}. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }
}
