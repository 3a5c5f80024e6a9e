#!/usr/bin/env bash
# Runs on the GPU machine (see docs/gpu-runbook.md) from the repository root, with `.gpu` carried
# (built here by scripts/gpu-bundle.sh). Unpacks Node and the Vulkan loader, points Dawn at the
# NVIDIA Vulkan driver, then runs what is asked:
#   bash scripts/gpu-run.sh smoke            # GPU correctness checks (packages/internvla-a1/bench/gpuSmoke.ts)
#   bash scripts/gpu-run.sh kernels [ARGS]   # kernel benchmarks vs tfjs-webgpu (full sizes)
#   bash scripts/gpu-run.sh policy [ARGS]    # policy benchmark, e.g. --config a1-3b
# Output files (logs, BENCHMARKS.md with the regenerated blocks, gpu-smoke.json) go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/.gpu-out}
mkdir -p "$OUT"
G=$PWD/.gpu
[ -d "$G" ] || { echo "gpu-run: .gpu is missing: run scripts/gpu-bundle.sh here and carry .gpu" >&2; exit 2; }

if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node' 2>/dev/null)" != "$(cat "$G/node.version")" ]; then
  mkdir -p /tmp/vla-node/bin
  if [ ! -x /tmp/vla-node/bin/node ]; then
    python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$G/node.xz" /tmp/vla-node/bin/node
    chmod +x /tmp/vla-node/bin/node
  fi
  export PATH=/tmp/vla-node/bin:$PATH
fi
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  for f in "$G"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
done
echo "node $(node -p 'process.versions.node'); VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'nvidia-smi unavailable')"

export NODE_PATH=$G/node_modules
what=${1:-smoke}
shift || true
case "$what" in
  smoke) OUT=$OUT node "$G/gpu-smoke.mjs" "$@" 2>&1 | tee "$OUT/smoke.log" ;;
  kernels) cp BENCHMARKS.md "$OUT/BENCHMARKS.md"; node "$G/bench-kernels.mjs" --full --out="$OUT/BENCHMARKS.md" "$@" 2>&1 | tee "$OUT/bench-kernels.log" ;;
  policy) node "$G/bench-policy.mjs" "$@" 2>&1 | tee "$OUT/bench-policy.log" ;;
  *) echo "gpu-run: unknown job $what (smoke | kernels | policy)" >&2; exit 2 ;;
esac
