// The simulator run loop with a made-up policy (no GPU): the e-stop of RunControl holds every command
// in place until its reset, in lockstep; the real-time mode ticks on the clock while a slow source
// computes, measures the latency per chunk and stops cleanly (a last hold) on control.stop(). In
// lockstep on the GPU camera, the frames each request reads (its own and t − 15) are the bytes a run
// that renders every tick gives.
import { describe, expect, it } from 'vitest';
import { ObservationHistory } from '@vla/policy-runtime';
import { POLICY_DIM, type ActionSource, type CameraFrame, type SafeCommand } from '@vla/robot-core';
import { sharedEpisodes, type OpenEpisode } from '../src/episodeSource.js';
import { RunControl } from '../src/runControl.js';
import { runSim } from '../src/simRun.js';

// +0.01 rad per row on the first joint of each arm from the request's state (dataset units, absolute).
function ramp(delayMs: number, calls: number[]): ActionSource {
  return async (req) => {
    calls.push(performance.now());
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const H = 20;
    const actions = new Float32Array(H * POLICY_DIM);
    for (let h = 0; h < H; h++) {
      actions.set(req.state, h * POLICY_DIM);
      actions[h * POLICY_DIM] += 0.01 * (h + 1);
      actions[h * POLICY_DIM + 7] += 0.01 * (h + 1);
    }
    return { actions, horizon: H, dim: POLICY_DIM, absolute: true };
  };
}

describe('runSim', () => {
  it('the e-stop holds every command where the arm is until it is reset, then motion resumes', async () => {
    const control = new RunControl();
    const cmds: SafeCommand[] = [];
    let t = 0;
    const s = await runSim({
      openEpisode: sharedEpisodes(ramp(0, [])),
      camera: 'raycast',
      imageSize: 16,
      maxSteps: 30,
      lockstep: { delayTicks: 1 },
      strategy: { kind: 'chunk', executeSteps: 8 },
      control,
      listener: {
        tick: (x) => {
          cmds.push(x.command);
          t++;
          if (t === 10) control.emergencyStop();
          if (t === 20) control.resetEmergencyStop();
        },
      },
    });
    expect(s.errors).toBe(0);
    expect(s.estops).toBe(1);
    // Delay 1: tick 0 holds while the first chunk is computed, ticks 1–9 follow it.
    expect(cmds[0].reason).toBe('no-action');
    for (let i = 1; i < 10; i++) expect(cmds[i].held).toBe(false);
    // Ticks 11–20 (indexes 10–19) held by the e-stop at the pose of tick 10.
    expect(s.estopHolds).toBe(10);
    for (let i = 10; i < 20; i++) {
      expect(cmds[i].reason).toBe('estop');
      expect(cmds[i].positions).toEqual(cmds[9].positions);
    }
    expect(cmds[9].positions[0]).toBeGreaterThan(cmds[0].positions[0] + 0.02);
    expect(cmds.slice(20).some((c) => !c.held)).toBe(true);
    expect(cmds[29].positions[0]).toBeGreaterThan(cmds[19].positions[0]);
    expect(s.withinLimits).toBe(true);
  });

  it('lockstep renders the frames each request reads, the same bytes as rendering every tick', async () => {
    const cameras = ['head', 'hand_left', 'hand_right'];
    const copy = (frames: Readonly<Record<string, CameraFrame>>) =>
      cameras.map((c) => Array.from(frames[c].data));
    // A policy episode with its own history of past frames, recording what every request reads.
    const run = async (everyTick: boolean) => {
      const seen: { current: number[][]; past: number[][] }[] = [];
      const openEpisode: OpenEpisode = () => {
        const history = new ObservationHistory();
        const act = ramp(0, []);
        return {
          source: (req) => {
            seen.push({ current: copy(req.images), past: copy(history.pastFrames()) });
            return act(req);
          },
          observe: (o) => history.push(o),
          close: () => undefined,
        };
      };
      const s = await runSim({
        openEpisode,
        camera: 'gpu',
        imageSize: 16,
        maxSteps: 40,
        episodes: 2,
        lockstep: { delayTicks: 1 },
        strategy: { kind: 'chunk', executeSteps: 8 },
        ...(everyTick ? { listener: { tick: () => undefined } } : {}),
      });
      expect(s.errors).toBe(0);
      return seen;
    };
    const rendered = await run(true);
    const onDemand = await run(false);
    // Two episodes of 40 ticks, a request every 8 steps or fewer.
    expect(onDemand.length).toBeGreaterThanOrEqual(10);
    expect(onDemand).toEqual(rendered);
    // The arm moved: the past frames are not the current ones, and nothing is blank.
    expect(onDemand[3].past).not.toEqual(onDemand[3].current);
    for (const r of onDemand)
      for (const f of [...r.current, ...r.past]) expect(f.some((v) => v > 0)).toBe(true);
  });

  it('real time: ticks at the control rate while a 120 ms source computes; latency per chunk; stop holds', async () => {
    const control = new RunControl();
    const calls: number[] = [];
    const ticks: number[] = [];
    const measured: number[] = [];
    const s = await runSim({
      openEpisode: sharedEpisodes(ramp(120, calls)),
      camera: 'raycast',
      imageSize: 16,
      maxSteps: 1000,
      strategy: { kind: 'chunk', executeSteps: 10 },
      control,
      listener: {
        tick: (x) => {
          ticks.push(performance.now());
          if (x.observation) measured.push(x.observation.state[0]);
          if (ticks.length === 45) control.stop();
        },
      },
    });
    expect(s.mode).toBe('realtime');
    expect(s.stopped).toBe(true);
    expect(s.errors).toBe(0);
    expect(s.ticks).toBe(45);
    // The warm-up request plus the episode's; every chunk took at least the source's 120 ms.
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(s.chunks).toBeGreaterThanOrEqual(3);
    expect(s.chunkLatencyMs.mean).toBeGreaterThanOrEqual(119);
    expect(s.holds).toBeLessThan(45);
    expect(s.maxTravel).toBeGreaterThan(0.05);
    // The world advanced with the ticks: the measured joint followed the commands.
    expect(measured[measured.length - 1]).toBeGreaterThan(measured[0] + 0.03);
  });
});
