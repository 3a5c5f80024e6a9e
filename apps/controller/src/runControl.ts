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
  // The operator's e-stop outlives the safety layer it was pressed on: it is applied to every layer
  // attached later (the next episode, a loop still loading) until it is reset.
  private latched = false;
  /** Current task instruction sent with every request (empty: the task's own). */
  instruction = '';
  /** Called whenever the state changes (running, e-stop, instruction). */
  onChange: (() => void) | undefined;

  /**
   * The loop's safety layer (the loop calls this when it starts a robot or an episode). An e-stop
   * pressed before, or on an earlier episode's layer, and not reset is applied to it at once.
   */
  attach(safety: SafetyLayer | undefined): void {
    this.safety = safety;
    if (safety && this.latched && !safety.estopped) safety.emergencyStop();
  }

  /**
   * Latched emergency stop: every later command holds until {@link RunControl.resetEmergencyStop},
   * also on safety layers attached later and when pressed while none is attached (the loop loading).
   */
  emergencyStop(): void {
    if (!this.estopped) this.estops++;
    this.latched = true;
    this.safety?.emergencyStop();
    this.onChange?.();
  }

  /**
   * Clears the e-stop; motion restarts from the measured state. When the safety layer refuses the
   * reset (it throws), the e-stop stays latched.
   */
  resetEmergencyStop(): void {
    this.safety?.resetEmergencyStop();
    this.latched = this.safety?.estopped ?? false;
    this.onChange?.();
  }

  /** True while an e-stop is latched (pressed and not reset) or the attached layer is e-stopped. */
  get estopped(): boolean {
    return this.latched || (this.safety?.estopped ?? false);
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
