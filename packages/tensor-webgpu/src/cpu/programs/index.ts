// Every WebAssembly kernel's declaration, one module per family. The build generates
// csrc/generated/programs.h from this list; the CPU engine finds exports by these names.
import type { CpuProgram } from '../program.js';
import * as attention from './attention.js';
import * as cast from './cast.js';
import * as conv from './conv.js';
import * as core from './core.js';
import * as elementwise from './elementwise.js';
import * as gather from './gather.js';
import * as image from './image.js';
import * as matmul from './matmul.js';
import * as norm from './norm.js';
import * as optimizer from './optimizer.js';
import * as random from './random.js';
import * as reduce from './reduce.js';
import * as rope from './rope.js';

const families = [
  attention,
  cast,
  conv,
  core,
  elementwise,
  gather,
  image,
  matmul,
  norm,
  optimizer,
  random,
  reduce,
  rope,
];

/** All kernel declarations, in a stable order (the index is the kernel's id across threads). */
export const CPU_PROGRAMS: readonly CpuProgram[] = families
  .flatMap((f) =>
    Object.values(f).filter((v): v is CpuProgram => typeof v === 'object' && 'args' in v && 'name' in v),
  )
  .sort((a, b) => a.name.localeCompare(b.name));
