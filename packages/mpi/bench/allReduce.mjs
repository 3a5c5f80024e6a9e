/**
 * Sum all-reduce bandwidth vs message size (4 KiB … 256 MiB of float32) with 2 ranks on shared
 * memory, next to an in-process peer: `Float32Array.set` plus an add loop over the same bytes
 * (what a reduction of two buffers costs without MPI).
 * Run: npm run bench (from packages/mpi). It starts `mpirun -np 2` itself and prints a Markdown
 * table; asserts nothing. Needs the built package (`npm run build`).
 */
/* global console, process */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Mpi, mpiLaunch } from '../dist/index.js';

const RANKS = 2;
const SIZES = Array.from({ length: 9 }, (_, i) => 4096 * 4 ** i); // 4 KiB … 256 MiB
const MIB = 1024 * 1024;

/** Enough repetitions for a stable time: about 1 GiB of traffic per size, 3 to 1000 runs. */
function repetitions(bytes) {
  return Math.max(3, Math.min(1000, Math.round(1024 ** 3 / bytes)));
}

/** Under mpirun: time the all-reduce per size; rank 0 prints one JSON line per size. */
async function measureRanks() {
  const mpi = Mpi.init();
  for (const bytes of SIZES) {
    const data = new Float32Array(bytes / 4);
    const runs = repetitions(bytes);
    await mpi.allReduceSum(data); // warm-up: page faults, shared-memory segments
    await mpi.barrier();
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await mpi.allReduceSum(data);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9 / runs;
    if (mpi.rank === 0) console.log(JSON.stringify({ bytes, seconds, runs }));
  }
  await mpi.barrier();
  mpi.finalize();
}

/** The peer: b = a copy, then b += a, in one process. */
function measureLocal(bytes) {
  const a = new Float32Array(bytes / 4).fill(1);
  const b = new Float32Array(bytes / 4);
  const runs = repetitions(bytes);
  const once = () => {
    b.set(a);
    for (let i = 0; i < b.length; i++) b[i] += a[i];
  };
  once();
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) once();
  return Number(process.hrtime.bigint() - start) / 1e9 / runs;
}

function formatSize(bytes) {
  return bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / 1024} KiB`;
}

function formatBandwidth(bytesPerSecond) {
  return `${(bytesPerSecond / 1e9).toPrecision(3)} GB/s`;
}

function formatTime(seconds) {
  return seconds >= 1e-3 ? `${(seconds * 1e3).toFixed(2)} ms` : `${(seconds * 1e6).toFixed(1)} µs`;
}

function launch() {
  const script = fileURLToPath(import.meta.url);
  const asRoot = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  const args = [
    ...asRoot,
    '-np',
    String(RANKS),
    '--oversubscribe',
    '--bind-to',
    'none',
    '--mca',
    'btl',
    'self,vader',
  ];
  const output = execFileSync('mpirun', [...args, process.execPath, script], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const rows = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  const busFactor = (2 * (RANKS - 1)) / RANKS;
  console.log(`# @vla/mpi all-reduce (float32 sum, ${RANKS} ranks, shared memory)`);
  console.log(
    `${new Date().toISOString()} · ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length} · Node ${process.version} · ` +
      `load ${loadavg()[0].toFixed(1)}`,
  );
  console.log('');
  console.log(
    '| size | runs | all-reduce time | algorithm bandwidth | bus bandwidth | local set+add | ratio |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { bytes, seconds, runs } of rows) {
    const local = measureLocal(bytes);
    const algorithm = bytes / seconds;
    console.log(
      `| ${formatSize(bytes)} | ${runs} | ${formatTime(seconds)} | ${formatBandwidth(algorithm)} | ` +
        `${formatBandwidth(algorithm * busFactor)} | ${formatTime(local)} | ${(seconds / local).toFixed(2)}× |`,
    );
  }
}

if (mpiLaunch()) await measureRanks();
else launch();
