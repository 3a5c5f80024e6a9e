import { LeRobotWriter, type LeRobotWriterOptions, type VideoCodecName } from '../src/index';
import { rng } from './helpers';

/** A smooth moving colour pattern (codec friendly), different per camera and episode. */
export function patternFrame(h: number, w: number, k: number, cam: number, ep: number): Uint8Array {
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      out[o] = Math.round(128 + 90 * Math.sin((2 * Math.PI * (x + 2 * k + 5 * cam)) / 32));
      out[o + 1] = Math.round(128 + 90 * Math.cos((2 * Math.PI * (y + k + 7 * ep)) / 24));
      out[o + 2] = Math.round(128 + 60 * Math.sin((2 * Math.PI * (x + y + 3 * k)) / 48));
    }
  }
  return out;
}

export interface SyntheticEpisode {
  task: string;
  length: number;
  /** Per feature, per frame, the values given to addFrame. */
  values: Record<string, number[][]>;
  frames: Record<string, Uint8Array[]>;
}

export interface SyntheticSpec {
  fps: number;
  robotType: string;
  numeric: Record<string, number>;
  cameras: string[];
  height: number;
  width: number;
  episodes: { length: number; task: string }[];
  seed: number;
  videoCodec?: VideoCodecName;
  crf?: number;
}

/** Records a dataset with random-walk numeric features and patterned cameras; returns what was written. */
export async function writeSynthetic(dir: string, spec: SyntheticSpec): Promise<SyntheticEpisode[]> {
  const features: LeRobotWriterOptions['features'] = {};
  for (const [k, n] of Object.entries(spec.numeric))
    features[k] = { dtype: 'float32', shape: [n], names: Array.from({ length: n }, (_, i) => `${k}_${i}`) };
  for (const c of spec.cameras)
    features[c] = {
      dtype: 'video',
      shape: [spec.height, spec.width, 3],
      names: ['height', 'width', 'channels'],
    };
  const w = await LeRobotWriter.create(dir, {
    fps: spec.fps,
    robotType: spec.robotType,
    features,
    videoCodec: spec.videoCodec,
    crf: spec.crf,
  });
  const rand = rng(spec.seed);
  const out: SyntheticEpisode[] = [];
  for (const [e, ep] of spec.episodes.entries()) {
    const values: Record<string, number[][]> = Object.fromEntries(
      Object.keys(spec.numeric).map((k) => [k, []]),
    );
    const frames: Record<string, Uint8Array[]> = Object.fromEntries(spec.cameras.map((c) => [c, []]));
    const walk: Record<string, number[]> = Object.fromEntries(
      Object.entries(spec.numeric).map(([k, n]) => [k, Array.from({ length: n }, () => rand() * 2 - 1)]),
    );
    for (let k = 0; k < ep.length; k++) {
      const frame: Record<string, ArrayLike<number>> = {};
      for (const [key, n] of Object.entries(spec.numeric)) {
        for (let j = 0; j < n; j++) walk[key][j] += (rand() - 0.5) * 0.2;
        const v = [...walk[key]];
        values[key].push(v.map(Math.fround));
        frame[key] = v;
      }
      spec.cameras.forEach((c, ci) => {
        const img = patternFrame(spec.height, spec.width, k, ci, e);
        frames[c].push(img);
        frame[c] = img;
      });
      w.addFrame(frame);
    }
    await w.saveEpisode({ task: ep.task });
    out.push({ task: ep.task, length: ep.length, values, frames });
  }
  await w.finalize();
  return out;
}
