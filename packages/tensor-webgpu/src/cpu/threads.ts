// The CPU engine's threads: worker threads (Node `worker_threads`, or Web Workers in a cross-origin
// isolated page) that instantiate the same kernel module on the same shared memory, each with its own
// stack. A call is published in a control block (generation, kernel id, argument pointer, thread
// count); workers wake on the generation, run their share, and count down. The calling thread runs
// share 0 and waits for the count to reach zero, so a kernel call is synchronous, like a function.

/** Words of the control block (Int32 indices). */
export const CTRL = { generation: 0, remaining: 1, kernel: 2, args: 3, nthreads: 4, failed: 5, words: 8 } as const;

/** What each worker needs to join. @internal */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  tid: number;
  stackTop: number;
  kernels: string[];
}

// Runs inside each worker (plain JS: it is passed to the Worker as source text). Spins briefly
// before sleeping: most kernel calls follow each other within microseconds.
const WORKER_BODY = `
function serve(init, report) {
  const inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  inst.exports.__stack_pointer.value = init.stackTop;
  const fns = init.kernels.map((k) => inst.exports['k_' + k]);
  const ctrl = new Int32Array(init.memory.buffer, init.ctrl, ${CTRL.words});
  let gen = Atomics.load(ctrl, ${CTRL.generation});
  report({ ready: true });
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctrl, ${CTRL.generation}) === gen) {
      if (++spins > 20000) { Atomics.wait(ctrl, ${CTRL.generation}, gen); spins = 0; }
    }
    gen = Atomics.load(ctrl, ${CTRL.generation});
    if (gen < 0) return;
    const n = Atomics.load(ctrl, ${CTRL.nthreads});
    if (init.tid < n) {
      try {
        fns[Atomics.load(ctrl, ${CTRL.kernel})](Atomics.load(ctrl, ${CTRL.args}), init.tid, n);
      } catch (err) {
        Atomics.store(ctrl, ${CTRL.failed}, init.tid);
        report({ error: String(err && err.stack || err) });
      }
    }
    if (Atomics.sub(ctrl, ${CTRL.remaining}, 1) === 1) Atomics.notify(ctrl, ${CTRL.remaining});
  }
}
`;

const NODE_WORKER = `${WORKER_BODY}
const { parentPort, workerData } = require('node:worker_threads');
serve(workerData, (m) => parentPort.postMessage(m));
`;

const WEB_WORKER = `${WORKER_BODY}
self.onmessage = (e) => serve(e.data, (m) => self.postMessage(m));
`;

interface AnyWorker {
  terminate(): unknown;
}

/** True in Node. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && !(globalThis as { window?: unknown }).window;
}

/** Whether this context may block with Atomics.wait (Node's main thread may; a page's may not). */
function canBlock(): boolean {
  return isNode() || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

/** Starts `inits.length` workers and resolves when all have joined. @internal */
export async function startWorkers(inits: WorkerInit[], onError: (message: string) => void): Promise<AnyWorker[]> {
  if (isNode()) {
    // The module name is hidden from bundlers: browser builds never load Node's worker_threads.
    const name = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ name)) as typeof import('node:worker_threads');
    return Promise.all(
      inits.map(
        (init) =>
          new Promise<AnyWorker>((resolve, reject) => {
            const w = new Worker(NODE_WORKER, { eval: true, workerData: init });
            // Idle workers must not keep a finished program alive.
            w.unref();
            w.once('error', reject);
            w.on('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve(w) : m.error && onError(m.error)));
          }),
      ),
    );
  }
  const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
  return Promise.all(
    inits.map(
      (init) =>
        new Promise<AnyWorker>((resolve, reject) => {
          const w = new Worker(url);
          w.onerror = (e) => reject(new Error(e.message));
          w.onmessage = (e: MessageEvent<{ ready?: boolean; error?: string }>) => (e.data.ready ? resolve(w) : e.data.error && onError(e.data.error));
          w.postMessage(init);
        }),
    ),
  );
}

/** Publishes a call to the workers, runs share 0 here, and waits for every share. @internal */
export function runShared(ctrl: Int32Array, kernel: number, args: number, nthreads: number, workers: number, share0: () => void): void {
  Atomics.store(ctrl, CTRL.kernel, kernel);
  Atomics.store(ctrl, CTRL.args, args);
  Atomics.store(ctrl, CTRL.nthreads, nthreads);
  Atomics.store(ctrl, CTRL.remaining, workers);
  Atomics.add(ctrl, CTRL.generation, 1);
  Atomics.notify(ctrl, CTRL.generation);
  share0();
  const block = canBlock();
  let spins = 0;
  for (;;) {
    const left = Atomics.load(ctrl, CTRL.remaining);
    if (left === 0) return;
    if (block && ++spins > 20000) Atomics.wait(ctrl, CTRL.remaining, left, 50);
  }
}

/** Tells workers to return, then terminates them. @internal */
export function stopWorkers(ctrl: Int32Array, workers: AnyWorker[]): void {
  Atomics.store(ctrl, CTRL.generation, -1);
  Atomics.notify(ctrl, CTRL.generation);
  for (const w of workers) void w.terminate();
}
