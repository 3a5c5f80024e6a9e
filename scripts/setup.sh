#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for vla: system packages, npm dependencies, a full build.
#   chromium  — ships the SwiftShader Vulkan driver (WebGPU without a GPU) and is the test browser
#   libvulkan1 — the Vulkan loader Dawn (npm `webgpu`) talks to
#   ffmpeg    — video decoding/encoding for LeRobot datasets
#   python3-msgpack, python3-numpy, python3-websockets — the openpi Python client test
#   clang, lld — compile the CPU backend's kernels (C) to WebAssembly
#   openmpi-bin, libopenmpi-dev, g++ — @vla/mpi's addon and data-parallel training under mpirun
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/*-linux-gnu/libvulkan.so.1 >/dev/null 2>&1 || need+=(libvulkan1)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# python3-msgpack/numpy/websockets: @vla/openpi's Python client test (openpi-client's wire encoding)
/usr/bin/python3 -c 'import msgpack, numpy, websockets' >/dev/null 2>&1 || need+=(python3-msgpack python3-numpy python3-websockets)
# clang + lld: the CPU backend's WebAssembly kernels (any clang >= 14 with the wasm32 target).
{ command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1; } || need+=(clang lld)
{ command -v mpicxx >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1; } || need+=(openmpi-bin libopenmpi-dev g++)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${need[@]}"
fi
node --version
# The lockfile holds every platform's optional packages (rollup, turbo, esbuild binaries), so `npm ci`
# installs exactly what it pins and leaves the tree clean.
npm ci --no-audit --no-fund
npm run build
