import fc from 'fast-check';
import { defineEmbodiment, type DimSpec, type Embodiment } from '../src/index.js';

/** Random but valid embodiments: 1–16 dims, joints and grippers, awkward limits and rates. */
export const embodimentArb: fc.Arbitrary<Embodiment> = fc
  .record({
    dims: fc.array(
      fc.record({
        gripper: fc.boolean(),
        lower: fc.double({ min: -10, max: 10, noNaN: true }),
        span: fc.double({ min: 1e-3, max: 20, noNaN: true }),
        maxVelocity: fc.double({ min: 1e-3, max: 50, noNaN: true }),
        flip: fc.boolean(),
      }),
      { minLength: 1, maxLength: 16 },
    ),
    controlHz: fc.constantFrom(10, 15, 30, 50, 200),
  })
  .map(({ dims, controlHz }) => {
    const specs: DimSpec[] = dims.map((d, i) => ({
      name: `d${i}`,
      kind: d.gripper ? 'gripper' : 'joint',
      unit: d.gripper ? 'm' : 'rad',
      lower: d.lower,
      upper: d.lower + d.span,
      maxVelocity: d.maxVelocity,
      delta: !d.gripper,
      ...(d.gripper && d.flip ? { dataset: { atLower: 1, atUpper: 0, description: 'flipped' } } : {}),
    }));
    return defineEmbodiment({
      robotType: `fuzz-${specs.length}`,
      dims: specs,
      cameras: [],
      controlHz,
      home: specs.map((d) => (d.lower + d.upper) / 2),
    });
  });
