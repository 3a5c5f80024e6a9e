// The operator's e-stop is latched in RunControl, not only in the safety layer it was pressed on: a
// later episode's layer (or one attached after a press while the loop was loading) is e-stopped at
// once, and only a reset releases it.
import { describe, expect, it } from 'vitest';
import { SafetyLayer } from '@vla/robot-core';
import { LIFT2 } from '@vla/robots-arx';
import { RunControl } from '../src/runControl.js';

const home = LIFT2.dims.map((d) => (d.lower + d.upper) / 2);

function startedLayer(now = 0): SafetyLayer {
  const s = new SafetyLayer(LIFT2);
  s.start(home, now);
  return s;
}

describe('RunControl', () => {
  it('an e-stop pressed with no layer attached, or on an earlier layer, e-stops the next one', () => {
    const control = new RunControl();
    control.emergencyStop();
    expect(control.estopped).toBe(true);
    const first = startedLayer();
    control.attach(first);
    expect(first.estopped).toBe(true);
    first.observe(home, 1);
    expect(first.step(home, 1).reason).toBe('estop');
    control.attach(undefined);
    const second = startedLayer(10);
    control.attach(second);
    expect(second.estopped).toBe(true);
    expect(control.emergencyStops).toBe(1);
  });

  it('a reset releases the latch; the next layer runs free', () => {
    const control = new RunControl();
    const first = startedLayer();
    control.attach(first);
    control.emergencyStop();
    control.resetEmergencyStop();
    expect(first.estopped).toBe(false);
    expect(control.estopped).toBe(false);
    control.attach(undefined);
    const second = startedLayer(10);
    control.attach(second);
    expect(second.estopped).toBe(false);
  });

  it('a reset between episodes (no layer attached) releases the latch; presses while latched count once', () => {
    const control = new RunControl();
    control.emergencyStop();
    control.emergencyStop();
    expect(control.emergencyStops).toBe(1);
    control.resetEmergencyStop();
    expect(control.estopped).toBe(false);
    const layer = startedLayer();
    control.attach(layer);
    expect(layer.estopped).toBe(false);
    layer.observe(home, 1);
    expect(layer.step(home, 1).reason).not.toBe('estop');
  });
});
