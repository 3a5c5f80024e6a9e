// The process-wide default engine, and a helper that lets Node programs end when their work is done
// (a live Dawn instance otherwise keeps the event loop alive).
import { Engine, type EngineOptions } from './engine.js';

let current: Promise<Engine> | null = null;

/** Creates (once) and returns the default engine used by tensors. */
export function initEngine(options: EngineOptions = {}): Promise<Engine> {
  if (!current) {
    current = Engine.create(options);
    current.catch(() => (current = null));
  }
  return current;
}

let ready: Engine | null = null;

/** Sets the default engine explicitly (e.g. one created with custom options). */
export function setEngine(engine: Engine): void {
  current = Promise.resolve(engine);
  ready = engine;
}

/** The default engine; throws if {@link initEngine} has not completed. */
export function engine(): Engine {
  if (!ready) throw new Error('No GPU engine: `await initEngine()` before creating tensors.');
  return ready;
}

/** Awaits the default engine and remembers it for synchronous access. */
export async function init(options: EngineOptions = {}): Promise<Engine> {
  ready = await initEngine(options);
  return ready;
}

/** Destroys the default engine if one exists. */
export function shutdown(): void {
  ready?.destroy();
  ready = null;
  current = null;
}

/**
 * Runs `main` with the default engine, destroys the device and exits the process with 0 (or 1 after
 * printing the error). Use it for command-line programs in Node.
 */
export async function runAndExit(main: (engine: Engine) => Promise<void>, options: EngineOptions = {}): Promise<never> {
  let code = 0;
  try {
    await main(await init(options));
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    code = 1;
  } finally {
    shutdown();
  }
  process.exit(code);
}
