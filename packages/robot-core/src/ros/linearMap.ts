/** `y = scale · x + offset`: how a message field maps to robot units (or back). */
export interface LinearMap {
  /** Multiplier. */
  readonly scale: number;
  /** Added after scaling. */
  readonly offset: number;
}

/** The identity map. */
export const IDENTITY_MAP: LinearMap = Object.freeze({ scale: 1, offset: 0 });

/** Apply a {@link LinearMap}. */
export function applyMap(m: LinearMap, x: number): number {
  return m.scale * x + m.offset;
}

/** The inverse of a {@link LinearMap}; throws when `scale` is 0. */
export function invertMap(m: LinearMap): LinearMap {
  if (m.scale === 0 || !Number.isFinite(m.scale))
    throw new Error(`invertMap: scale ${m.scale} is not invertible`);
  return { scale: 1 / m.scale, offset: -m.offset / m.scale };
}
