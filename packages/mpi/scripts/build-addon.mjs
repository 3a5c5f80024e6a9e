#!/usr/bin/env node
// Builds build/vla_mpi.node from csrc/ with the C++ compiler behind Open MPI's `mpicxx`, against the
// headers of the Node that runs this script (never downloads anything). Compile and link flags come
// from `mpicxx --showme:compile/--showme:link`, else from pkg-config `ompi`.
/* global console, process */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(packageDir, 'csrc', 'mpi_addon.cc');
const output = join(packageDir, 'build', 'vla_mpi.node');
const INSTALL_HINT =
  'Open MPI development files are missing: install them (Debian/Ubuntu: `sudo apt-get install libopenmpi-dev openmpi-bin g++`) and rebuild.';

function fail(message) {
  console.error(`@vla/mpi build: ${message}`);
  process.exit(1);
}

function run(command, args) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function words(text) {
  return text.split(/\s+/).filter((word) => word.length > 0);
}

/** Open MPI's compiler, compile flags and link flags. */
function mpiToolchain() {
  try {
    const compiler = run('mpicxx', ['--showme:command']);
    const link = words(run('mpicxx', ['--showme:link'])).filter((flag) => flag !== '-lmpi_cxx');
    return { compiler: words(compiler)[0], compile: words(run('mpicxx', ['--showme:compile'])), link };
  } catch {
    // No wrapper compiler: fall back to pkg-config and the system C++ compiler.
  }
  try {
    return {
      compiler: process.env.CXX ?? 'c++',
      compile: words(run('pkg-config', ['--cflags', 'ompi'])),
      link: words(run('pkg-config', ['--libs', 'ompi'])),
    };
  } catch {
    fail(INSTALL_HINT);
  }
}

const nodeDir = dirname(dirname(process.execPath));
const nodeInclude = join(nodeDir, 'include', 'node');
if (!existsSync(join(nodeInclude, 'node_api.h'))) {
  fail(
    `Node's headers were not found in ${nodeInclude} (install Node with its headers, e.g. Debian's libnode-dev).`,
  );
}
// include_dir is relative to the working directory (and may be quoted).
const addonApiInclude = resolve(
  createRequire(import.meta.url)('node-addon-api').include_dir.replace(/^"|"$/g, ''),
);
const toolchain = mpiToolchain();
if (!toolchain) fail(INSTALL_HINT);
const libDirs = toolchain.link
  .filter((flag) => flag.startsWith('-L'))
  .map((flag) => `-Wl,-rpath,${flag.slice(2)}`);

mkdirSync(dirname(output), { recursive: true });
const args = [
  '-std=c++17',
  '-O2',
  '-fPIC',
  '-shared',
  '-fexceptions',
  '-Wall',
  // Without this Open MPI's deprecated C++ bindings leave undefined symbols (MPI::Datatype::Free).
  '-DOMPI_SKIP_MPICXX=1',
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  `-I${nodeInclude}`,
  `-I${addonApiInclude}`,
  ...toolchain.compile,
  source,
  '-o',
  output,
  ...toolchain.link,
  ...libDirs,
];
try {
  execFileSync(toolchain.compiler, args, { stdio: 'inherit' });
} catch {
  fail(`compiling ${source} with ${toolchain.compiler} failed (see above). ${INSTALL_HINT}`);
}
console.log(`@vla/mpi build: wrote ${output}`);
