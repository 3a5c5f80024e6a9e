import { tickPeriodMs, type Embodiment } from '@vla/robot-core';
import type { Foresight } from '@vla/policy-runtime';
import { DashboardServer } from './dashboard/dashboardServer.js';
import type { RunControl } from './runControl.js';
import type { RunListener } from './runRecorder.js';

/** Frames the policy's foresight predicts ahead (InternVLA-A1: t + 15). */
const FORESIGHT_TICKS = 15;

/**
 * Serves the live dashboard for a run: its buttons drive the {@link RunControl} (stop, e-stop and its
 * reset, the instruction of the next episode) and the returned listener feeds it ticks, camera frames,
 * chunk latencies and status; `foresight` takes the policy's decoded predictions.
 */
export async function linkDashboard(
  options: { port?: number; host?: string; embodiment: Embodiment; control: RunControl },
  log: (m: string) => void,
): Promise<{ server: DashboardServer; listener: RunListener; foresight(f: Foresight): void }> {
  const { control, embodiment } = options;
  const server = await DashboardServer.listen({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    embodiment,
    cameras: embodiment.cameras.map((c) => c.name),
    controls: {
      // The run starts on its own; "start" releases an e-stop.
      start: () => control.resetEmergencyStop(),
      stop: () => control.stop(),
      emergencyStop: () => control.emergencyStop(),
      resetEmergencyStop: () => control.resetEmergencyStop(),
      setInstruction: (text) => {
        control.instruction = text;
        log(`instruction for the next episode: ${text}`);
      },
    },
  });
  let message = '';
  const status = (holdReason?: string) =>
    server.status({
      running: !control.stopped,
      estopped: control.estopped,
      instruction: control.instruction,
      ...(holdReason ? { holdReason } : {}),
      ...(message ? { message } : {}),
    });
  control.onChange = () => status();
  let lastReason = '';
  const period = tickPeriodMs(embodiment);
  return {
    server,
    listener: {
      tick: (t) => {
        if (t.observation) {
          server.frames(t.observation.images, t.timestampMs);
          server.tick({ timestampMs: t.timestampMs, state: t.observation.state, command: t.command });
        }
        if (t.command.reason !== lastReason) {
          lastReason = t.command.reason;
          status(t.command.held ? t.command.reason : undefined);
        }
      },
      chunk: (c) => server.chunk(c),
      log: (m) => {
        message = m;
        log(m);
        status();
      },
    },
    foresight: (f) =>
      server.foresight({ ...f, targetTimestampMs: f.observationTimestampMs + FORESIGHT_TICKS * period }),
  };
}
