import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { OpenpiClient, PolicyServer, ndarray, packOpenpi, unpackOpenpi } from '../src/index.js';
import { randomState, rng, toyArm } from './helpers.js';
import { episodeFactory, expectedRobotRows } from './testEpisodes.js';

const LIMITS = { maxMessageBytes: 64 * 1024, maxImagePixels: 40 * 40 };
let server: PolicyServer;
let factory: ReturnType<typeof episodeFactory>;

beforeAll(async () => {
  factory = episodeFactory(11);
  server = await PolicyServer.listen({
    metadata: { ok: true },
    embodiment: toyArm,
    openEpisode: factory.open,
    limits: LIMITS,
  });
});
afterAll(async () => {
  await server.close();
});

type Outcome = { text: string | undefined; code: number; replies: number };

/** Connects raw, waits for the metadata, sends the payloads, and reports the error text and close code. */
function exchange(url: string, payloads: (Uint8Array | string)[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let metadata = false;
    let text: string | undefined;
    let replies = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) text = (data as Buffer).toString('utf8');
      else if (!metadata) {
        metadata = true;
        for (const p of payloads) ws.send(p);
      } else replies++;
    });
    ws.on('close', (code) => resolve({ text, code, replies }));
    ws.on('error', reject);
  });
}

const bin = (s: string): number[] => [0xc4, s.length, ...Buffer.from(s)];
const str = (s: string): number[] => [0xa0 + s.length, ...Buffer.from(s)];
/** Hand-assembled {state: <ndarray>} with any dtype, data bytes and shape. */
function stateWith(dtype: string, data: number[], shape: number[]): Uint8Array {
  return Uint8Array.from([
    0x81,
    ...str('state'),
    0x84,
    ...bin('__ndarray__'),
    0xc3,
    ...bin('data'),
    0xc4,
    data.length,
    ...data,
    ...bin('dtype'),
    ...str(dtype),
    ...bin('shape'),
    0x90 + shape.length,
    ...shape.flatMap((d) =>
      d < 128 ? [d] : [0xce, (d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255],
    ),
  ]);
}
const goodState = () => ndarray(new Float64Array(4), [4]);
const zeros = (n: number) => new Array<number>(n).fill(0);

const corpus: [string, Uint8Array | string, RegExp][] = [
  ['bad msgpack byte', Uint8Array.of(0xc1, 0x00), /not valid msgpack/],
  ['truncated msgpack', packOpenpi({ state: goodState() }).subarray(0, 30), /not valid msgpack/],
  ['trailing bytes', Uint8Array.from([...packOpenpi({ state: goodState() }), 0x01]), /not valid msgpack/],
  ['text frame', 'hello', /expected a binary msgpack message/],
  ['not a map', packOpenpi([1, 2, 3]), /expected a map, got a list of 3/],
  [
    'str keys instead of bin',
    packOpenpi({ state: { __ndarray__: true, data: new Uint8Array(32), dtype: '<f8', shape: [4] } }),
    /str keys.*must be bin/,
  ],
  [
    'int state dtype',
    packOpenpi({ state: ndarray(new Int32Array(4), [4]) }),
    /"state": dtype <i4 is not a float dtype/,
  ],
  ['complex dtype', stateWith('<c8', zeros(32), [4]), /dtype "<c8" is not supported/],
  ['big-endian dtype', stateWith('>f4', zeros(16), [4]), /dtype ">f4" is not supported/],
  ['shape/data mismatch', stateWith('<f4', zeros(12), [4]), /\[4\] needs 16 bytes of data, got 12/],
  [
    'huge shape claim',
    stateWith('<f4', zeros(16), [100000, 100000, 3]),
    /needs 120000000000 bytes of data, got 16/,
  ],
  ['missing state', packOpenpi({ prompt: 'x' }), /missing "state"/],
  [
    'wrong state length',
    packOpenpi({ state: ndarray(new Float32Array(6), [6]) }),
    /"state": shape \[6\], toy-arm needs \[4\]/,
  ],
  ['2-d state', packOpenpi({ state: ndarray(new Float32Array(4), [1, 4]) }), /shape \[1, 4\]/],
  ['NaN state', packOpenpi({ state: ndarray(Float64Array.of(0, NaN, 0, 0), [4]) }), /joint2 is NaN/],
  [
    'unknown camera',
    packOpenpi({ state: goodState(), images: { left: ndarray(new Uint8Array(12), [2, 2, 3]) } }),
    /unknown camera "left"/,
  ],
  [
    'image of rank 2',
    packOpenpi({ state: goodState(), images: { head: ndarray(new Uint8Array(12), [3, 4]) } }),
    /"images.head": shape \[3, 4\] is neither/,
  ],
  [
    'image without 3 channels',
    packOpenpi({ state: goodState(), images: { head: ndarray(new Uint8Array(16), [2, 2, 4]) } }),
    /\[2, 2, 4\] is neither/,
  ],
  [
    'float image',
    packOpenpi({ state: goodState(), images: { head: ndarray(new Float32Array(12), [2, 2, 3]) } }),
    /"images.head": dtype <f4, images must be uint8/,
  ],
  [
    'image is a list',
    packOpenpi({ state: goodState(), images: { head: [1, 2, 3] } }),
    /"images.head": expected a uint8 ndarray/,
  ],
  ['images not a map', packOpenpi({ state: goodState(), images: 'head' }), /"images": expected a map/],
  [
    'image over the pixel limit',
    packOpenpi({ state: goodState(), images: { wrist: ndarray(new Uint8Array(3 * 50 * 50), [3, 50, 50]) } }),
    /50×50 = 2500 pixels exceeds limits.maxImagePixels = 1600/,
  ],
  [
    'message over the byte limit',
    packOpenpi({ state: goodState(), prompt: 'x'.repeat(70_000) }),
    /message of 700\d\d bytes exceeds limits.maxMessageBytes = 65536/,
  ],
  [
    'prompt not a str',
    packOpenpi({ state: goodState(), prompt: 7 }),
    /"prompt": expected a str, got number 7/,
  ],
  [
    'negative actions_executed',
    packOpenpi({ state: goodState(), actions_executed: -1 }),
    /"actions_executed": expected a non-negative int/,
  ],
  [
    'too deep',
    Uint8Array.from([
      0x82,
      ...str('state'),
      ...packOpenpi(goodState()),
      ...str('extra'),
      ...zeros(100).map(() => 0x91),
      0x90,
    ]),
    /nested deeper than 64/,
  ],
  [
    '__proto__ key',
    Uint8Array.from([0x82, ...str('state'), ...packOpenpi(goodState()), ...bin('__proto__'), 0xc3]),
    /__proto__ is not allowed/,
  ],
];

describe('PolicyServer on malformed messages', () => {
  it('answers each with a 1011 naming the problem and keeps serving other clients', async () => {
    const bystander = await OpenpiClient.connect(server.url);
    const r = rng(21);
    let k = 0;
    const ask = async () => {
      const s = randomState(r);
      const mine = ++k;
      const reply = await bystander.infer({ state: ndarray(Float64Array.from(s), [4]) });
      const exp = expectedRobotRows(mine, s).flat();
      Array.from(reply.actions.data as Float32Array).forEach((v, j) => expect(v).toBeCloseTo(exp[j], 5));
    };
    await ask();
    const errors = server.stats.errors;
    // All at once, interleaved with the bystander's requests.
    const outcomes = await Promise.all([
      ...corpus.map(([, payload]) => exchange(server.url, [payload])),
      ask(),
      ask(),
    ]);
    corpus.forEach(([name, , re], j) => {
      const o = outcomes[j] as Outcome;
      expect({ name, code: o.code }).toEqual({ name, code: 1011 });
      expect(o.text, name).toMatch(re);
      expect(o.replies, name).toBe(0);
    });
    expect(server.stats.errors).toBe(errors + corpus.length);
    await ask();
    await bystander.close();
  });

  it('refuses actions_executed beyond the previous reply, after a good reply', async () => {
    const o = await exchange(server.url, [
      packOpenpi({ state: ndarray(new Float64Array(4), [4]) }),
      packOpenpi({ state: ndarray(new Float64Array(4), [4]), actions_executed: 9 }),
    ]);
    expect(o).toEqual({
      code: 1011,
      replies: 1,
      text: expect.stringMatching(/"actions_executed" = 9 exceeds the 4 rows of the previous reply/),
    });
  });

  it('drops a message far over the byte limit at the WebSocket layer (1009) and stays up', async () => {
    const o = await exchange(server.url, [new Uint8Array(LIMITS.maxMessageBytes * 5)]);
    expect(o.code).toBe(1009);
    const client = await OpenpiClient.connect(server.url);
    const reply = await client.infer({ state: ndarray(new Float64Array(4), [4]) });
    expect(reply.actions.shape).toEqual([4, 4]);
    await client.close();
  });

  it('closes the episode of every connection that ended in an error', async () => {
    await expect.poll(() => factory.logs.filter((l) => !l.closed).length).toBe(0);
    // The codec still decodes what the corpus built by hand, so the cases test the server, not typos.
    expect(() => unpackOpenpi(corpus[0][1] as Uint8Array)).toThrow();
  });
});
