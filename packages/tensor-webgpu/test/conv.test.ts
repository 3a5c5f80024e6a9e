import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/conv.js';
import { nd } from './reference/ndarray.js';
import { expectTensorClose, gradCheck, randomArray } from './util.js';

const sz = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
type Pad4 = [number, number, number, number];

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  stride: [number, number];
  padding: Pad4;
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

const convCases: ConvCase[] = [
  {
    name: '3x3 odd sizes, pad 1',
    x: [2, 3, 7, 9],
    w: [5, 3, 3, 3],
    stride: [1, 1],
    padding: [1, 1, 1, 1],
    dilation: [1, 1],
    groups: 1,
    bias: true,
  },
  {
    name: 'stride 2, asymmetric pad',
    x: [1, 4, 8, 7],
    w: [6, 4, 3, 2],
    stride: [2, 2],
    padding: [1, 0, 0, 1],
    dilation: [1, 1],
    groups: 1,
    bias: false,
  },
  {
    name: 'dilation 2, groups 2',
    x: [2, 4, 9, 8],
    w: [6, 2, 3, 3],
    stride: [1, 2],
    padding: [2, 2, 1, 1],
    dilation: [2, 2],
    groups: 2,
    bias: true,
  },
  {
    name: 'depthwise 3x3 stride 2',
    x: [1, 5, 6, 5],
    w: [5, 1, 3, 3],
    stride: [2, 2],
    padding: [1, 1, 1, 1],
    dilation: [1, 1],
    groups: 5,
    bias: true,
  },
  {
    name: 'k=8 s=8 patchify',
    x: [2, 3, 16, 8],
    w: [4, 3, 8, 8],
    stride: [8, 8],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: 1,
    bias: true,
  },
];

describe('conv2d', () => {
  it.each(convCases)('$name matches the float64 reference', async (c) => {
    const x = randomArray(sz(c.x), sz(c.x) + 1);
    const w = randomArray(sz(c.w), sz(c.w) + 2);
    const b = randomArray(c.w[0], 3);
    const start = eng.poolStats().inUseBytes;
    const out = T.tidy(() =>
      T.conv2d(T.tensor(x, c.x), T.tensor(w, c.w), c.bias ? T.tensor(b, [c.w[0]]) : null, {
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        groups: c.groups,
      }),
    );
    const ref = R.conv2d(nd(x, c.x), nd(w, c.w), c.bias ? nd(b, [c.w[0]]) : undefined, c);
    await expectTensorClose(out, ref, { atol: 1e-5, rtol: 1e-4, what: c.name });
    out.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('accepts number and [ph, pw] padding forms', async () => {
    const x = randomArray(1 * 2 * 5 * 6, 9);
    const w = randomArray(3 * 2 * 3 * 3, 10);
    const X = T.tensor(x, [1, 2, 5, 6]);
    const W = T.tensor(w, [3, 2, 3, 3]);
    const base = { stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
    await expectTensorClose(
      T.conv2d(X, W, null, { padding: 1 }),
      R.conv2d(nd(x, X.shape), nd(w, W.shape), undefined, { ...base, padding: [1, 1, 1, 1] }),
      { atol: 1e-5, what: 'padding 1' },
    );
    await expectTensorClose(
      T.conv2d(X, W, null, { padding: [2, 0] }),
      R.conv2d(nd(x, X.shape), nd(w, W.shape), undefined, { ...base, padding: [2, 2, 0, 0] }),
      { atol: 1e-5, what: 'padding [2,0]' },
    );
  });

  it('gradients (input, weight, bias) match finite differences: stride 2, asymmetric pad, dilation, groups', async () => {
    await gradCheck(
      (x, w, b) => T.conv2d(x, w, b, { stride: 2, padding: [1, 0, 2, 1], dilation: [1, 2], groups: 2 }),
      [
        { data: randomArray(2 * 4 * 7 * 6, 41), shape: [2, 4, 7, 6] },
        { data: randomArray(4 * 2 * 3 * 2, 42), shape: [4, 2, 3, 2] },
        { data: randomArray(4, 43), shape: [4] },
      ],
      { what: 'conv2d', maxPoints: 24 },
    );
  });

  it('rejects mismatched channels with a message naming the shapes', () => {
    expect(() => T.conv2d(T.zeros([1, 3, 4, 4]), T.zeros([2, 2, 3, 3]))).toThrow(
      /conv2d: weight \[2,2,3,3\] expects 2 input channels/,
    );
    expect(() => T.conv2d(T.zeros([1, 3, 2, 2]), T.zeros([2, 3, 3, 3]))).toThrow(/larger than padded input/);
  });
});

describe('convTranspose2d', () => {
  const cases: (ConvCase & { outputPadding: [number, number] })[] = [
    {
      name: 'stride 2, output padding 1, pad 1',
      x: [2, 3, 4, 5],
      w: [3, 4, 3, 3],
      stride: [2, 2],
      padding: [1, 1, 1, 1],
      dilation: [1, 1],
      groups: 1,
      bias: true,
      outputPadding: [1, 1],
    },
    {
      name: 'k=8 s=8 (unpatchify), groups 2',
      x: [1, 4, 2, 3],
      w: [4, 3, 8, 8],
      stride: [8, 8],
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      groups: 2,
      bias: true,
      outputPadding: [0, 0],
    },
    {
      name: 'dilation 2, stride [3,2], asymmetric pad',
      x: [1, 2, 3, 4],
      w: [2, 3, 2, 3],
      stride: [3, 2],
      padding: [0, 1, 2, 0],
      dilation: [2, 2],
      groups: 1,
      bias: false,
      outputPadding: [2, 1],
    },
  ];
  it.each(cases)('$name matches the scatter reference', async (c) => {
    const x = randomArray(sz(c.x), sz(c.x) + 5);
    const w = randomArray(sz(c.w), sz(c.w) + 6);
    const cout = c.w[1] * c.groups;
    const b = randomArray(cout, 7);
    const out = T.convTranspose2d(T.tensor(x, c.x), T.tensor(w, c.w), c.bias ? T.tensor(b, [cout]) : null, c);
    await expectTensorClose(
      out,
      R.convTranspose2d(nd(x, c.x), nd(w, c.w), c.bias ? nd(b, [cout]) : undefined, c),
      { atol: 1e-5, rtol: 1e-4, what: c.name },
    );
  });

  it('gradients match finite differences', async () => {
    await gradCheck(
      (x, w, b) =>
        T.convTranspose2d(x, w, b, { stride: 2, padding: [1, 0, 0, 1], outputPadding: 1, groups: 2 }),
      [
        { data: randomArray(1 * 4 * 3 * 4, 51), shape: [1, 4, 3, 4] },
        { data: randomArray(4 * 2 * 3 * 3, 52), shape: [4, 2, 3, 3] },
        { data: randomArray(4, 53), shape: [4] },
      ],
      { what: 'convTranspose2d', maxPoints: 24 },
    );
  });

  it('gradient with outputPadding >= stride (allowed below the dilation) keeps the input shape', async () => {
    await gradCheck(
      (x, w) => T.convTranspose2d(x, w, null, { stride: 1, dilation: 2, outputPadding: 1 }),
      [
        { data: randomArray(1 * 2 * 3 * 3, 61), shape: [1, 2, 3, 3] },
        { data: randomArray(2 * 3 * 2 * 2, 62), shape: [2, 3, 2, 2] },
      ],
      { what: 'convTranspose2d outputPadding 1, stride 1, dilation 2', maxPoints: 18 },
    );
  });

  it('rejects an output padding not smaller than stride or dilation', () => {
    expect(() =>
      T.convTranspose2d(T.zeros([1, 2, 3, 3]), T.zeros([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    ).toThrow(/outputPadding/);
  });
});
