#!/usr/bin/env bash
# The closed-loop experiment behind the shipped policy and BENCHMARKS.md: demonstrations, the tiny
# tokenizer, the tiny policy with and without its generation expert, and their evaluation.
# Every stage resumes: rerun the script after an interruption and it continues where it stopped.
#   bash experiments/closed-loop/run.sh            # everything (many CPU hours)
#   STAGE=eval bash experiments/closed-loop/run.sh # one stage: record | tokenizer | train | eval
#   STAGE=eval SAMPLERS="1 2" bash experiments/closed-loop/run.sh # each evaluation again with the sampler seeded 1, then 2
#   STAGE=ship bash experiments/closed-loop/run.sh # a gen run (SHIP, default gen-long) becomes @vla/pretrained's tiny-lift2; EVALUATED=pick-place when only that task was evaluated yet
#   STAGE=save bash experiments/closed-loop/run.sh # keep the runs' latest checkpoints in the repository
# Training spans many sittings on a 2-core machine: `save` copies each run's latest checkpoint, its
# config and metrics (evaluations included), and the tokenizer into experiments/closed-loop/progress
# (committed; 3–4 MB per tiny run, 14–21 MB per wide one); every other stage first restores them into runs/ where runs/ lacks them. The
# demonstrations are re-recorded instead (deterministic: same seeds, same renderer).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=runs/closed-loop
HERE=experiments/closed-loop
KEEP=$HERE/progress
RUNS="gen nogen"               # the ablation: with and without the generation expert
ANNEAL="gen-anneal nogen-anneal" # each continued with the learning rate annealed (<run>-anneal.json)
LONG="gen-long nogen-long"       # each annealed run trained longer on more pick-place demonstrations (<run>-long.json)
WIDE="gen-wide nogen-wide"       # the ablation again from step 0 at width 128 and depth 4, on all the demonstrations (<run>-wide.json)
WIDE_ANNEAL="gen-wide-anneal nogen-wide-anneal" # each wide run annealed as the tiny ones were (<run>-wide-anneal.json)
RECON="gen-recon nogen-recon"    # each long run fine-tuned with the image reconstruction term (<run>-recon.json)
SCRATCH="gen-scratch-recon nogen-scratch-recon" # the tiny ablation from step 0 with that term, on all the demonstrations
SCRATCH_ANNEAL="gen-scratch-recon-anneal nogen-scratch-recon-anneal" # each annealed as the others were
SHIP=${SHIP:-gen-long}
STEPS=${STEPS:-30000}
EVAL_EPISODES=${EVAL_EPISODES:-50}
mkdir -p "$OUT"
stage() { [ -z "${STAGE:-}" ] || [ "$STAGE" = "$1" ]; }

if [ "${STAGE:-}" = save ]; then
  mkdir -p "$KEEP"
  [ ! -f "$OUT/tokenizer.safetensors" ] || cp "$OUT/tokenizer.safetensors" "$KEEP/"
  for run in $RUNS $ANNEAL $LONG $WIDE $WIDE_ANNEAL $RECON $SCRATCH $SCRATCH_ANNEAL; do
    [ -f "$OUT/$run/checkpoints/latest" ] || continue
    latest=$(cat "$OUT/$run/checkpoints/latest")
    rm -rf "$KEEP/$run.tmp" && mkdir -p "$KEEP/$run.tmp/checkpoints"
    cp -r "$OUT/$run/checkpoints/$latest" "$KEEP/$run.tmp/checkpoints/"
    echo "$latest" > "$KEEP/$run.tmp/checkpoints/latest"
    cp "$OUT/$run/train-config.json" "$KEEP/$run.tmp/"
    # A line per step (8 MB by 20k). Unchanged metrics keep their committed file: gzip stamps each
    # file's mtime, which a restore resets, so compressing again would change every run's bytes.
    if [ -f "$KEEP/$run/metrics.jsonl.gz" ] && gunzip -c "$KEEP/$run/metrics.jsonl.gz" | cmp -s - "$OUT/$run/metrics.jsonl"; then
      cp "$KEEP/$run/metrics.jsonl.gz" "$KEEP/$run.tmp/"
    else
      gzip -9c "$OUT/$run/metrics.jsonl" > "$KEEP/$run.tmp/metrics.jsonl.gz"
    fi
    rm -rf "$KEEP/$run" && mv "$KEEP/$run.tmp" "$KEEP/$run"
    echo "kept $run at $latest"
  done
  for json in "$OUT"/eval-*.json; do [ ! -f "$json" ] || cp "$json" "$KEEP/"; done # the 50-seed evaluations
  exit 0
fi

# Restore what an earlier sitting kept, where runs/ lacks it.
[ -f "$OUT/tokenizer.safetensors" ] || [ ! -f "$KEEP/tokenizer.safetensors" ] || cp "$KEEP/tokenizer.safetensors" "$OUT/"
for run in $RUNS $ANNEAL $LONG $WIDE $WIDE_ANNEAL $RECON $SCRATCH $SCRATCH_ANNEAL; do
  if [ ! -f "$OUT/$run/checkpoints/latest" ] && [ -f "$KEEP/$run/checkpoints/latest" ]; then
    mkdir -p "$OUT/$run" && cp -r "$KEEP/$run/checkpoints" "$KEEP/$run/train-config.json" "$OUT/$run/"
    gunzip -c "$KEEP/$run/metrics.jsonl.gz" > "$OUT/$run/metrics.jsonl"
    echo "restored $run at $(cat "$OUT/$run/checkpoints/latest")"
  fi
done
for json in "$KEEP"/eval-*.json; do [ ! -f "$json" ] || [ -f "$OUT/$(basename "$json")" ] || cp "$json" "$OUT/"; done

if stage record; then
  # 100 scripted-expert demonstrations per task, seeds 1000-1099 (evaluation uses seeds from 0).
  # One task at a time: on 2 cores both at once took longer (48 min) than one after the other (41 min).
  for task in pick-place conveyor-sort; do
    [ -f "$OUT/$task-lift2/meta/info.json" ] ||
      node packages/sim/dist/cli.js record --task "$task" --robot lift2 --episodes 100 --seed 1000 --size 64 --out "$OUT/$task-lift2"
  done
  # More demonstrations, 100 per block, each its own dataset (the long runs train on pick-place:1100):
  # MORE_DEMOS="pick-place:1100 pick-place:1200".
  for block in ${MORE_DEMOS-pick-place:1100}; do
    task=${block%%:*} seed=${block##*:}
    [ -f "$OUT/$task-lift2-s$seed/meta/info.json" ] ||
      node packages/sim/dist/cli.js record --task "$task" --robot lift2 --episodes 100 --seed "$seed" --size 64 --out "$OUT/$task-lift2-s$seed"
  done
fi

if stage tokenizer; then
  [ -f "$OUT/tokenizer.safetensors" ] ||
    node apps/trainer/dist/tokenizerCli.js -d "$OUT/pick-place-lift2" "$OUT/conveyor-sort-lift2" -o "$OUT/tokenizer.safetensors" --steps 2500
fi

# Trains run $1 in the background from config $2 (extra flags after it), or resumes it where it stopped.
train_run() {
  local run=$1 config=$2
  shift 2
  if [ -f "$OUT/$run/checkpoints/latest" ]; then
    VLA_CPU_THREADS=1 node apps/trainer/dist/cli.js --resume --out "$OUT/$run" "$@" -q &
  else
    VLA_CPU_THREADS=1 node apps/trainer/dist/cli.js -c "$config" --out "$OUT/$run" "$@" -q &
  fi
}

# Trains a pair of runs side by side from their configs (extra flags after the pair) and waits for both.
train_pair() {
  local pair=$1
  shift
  for run in $pair; do train_run "$run" "$HERE/$run.json" "$@"; done
  wait
}

if stage train; then
  # One CPU thread each: both runs advance together and share the machine evenly.
  train_pair "$RUNS" --steps "$STEPS"
  # Then each continues for a sixth of that budget with the learning rate warmed up and decayed along
  # a cosine to 1% (the fine-tuning schedule), from its last checkpoint.
  train_pair "$ANNEAL"
  # Then 20,000 more steps each (warmup + cosine again), pick-place and conveyor-sort sampled evenly, with
  # the second block of 100 pick-place demonstrations the record stage makes.
  train_pair "$LONG"
  # Then the ablation from step 0 with a wider, deeper policy (the same structure; the tiny preset's
  # width 128 and layers 4), on the three datasets sampled as in the long runs.
  train_pair "$WIDE" --steps "$STEPS"
  # Then each wide run annealed for 5,000 steps, as the tiny runs were.
  train_pair "$WIDE_ANNEAL"
  # Then each long run fine-tuned for 6,000 steps with its understanding expert's image tokens also
  # reconstructing their frames (imageReconWeight 1; warmup + cosine as before).
  train_pair "$RECON"
  # Then the tiny ablation again from step 0 with the term on, 30,000 steps, and the same anneal.
  train_pair "$SCRATCH" --steps "$STEPS"
  train_pair "$SCRATCH_ANNEAL"
fi

# Whether $1 is the summary of an evaluation that ran to its end.
complete() { [ -f "$1" ] && node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stopped ? 1 : 0)' "$1"; }

# Whether run $1 has trained all its steps.
finished() {
  [ -f "$OUT/$1/checkpoints/latest" ] && node -e '
    const fs = require("fs");
    const steps = JSON.parse(fs.readFileSync(process.argv[1] + "/train-config.json", "utf8")).steps;
    const latest = fs.readFileSync(process.argv[1] + "/checkpoints/latest", "utf8").trim();
    process.exit(latest === "step-" + String(steps).padStart(8, "0") ? 0 : 1);' "$OUT/$1"
}

if stage eval; then
  # Held-out seeds 0.. with the recording's renderer and size; 30 of each 50-action chunk executed.
  for run in $ANNEAL $LONG $WIDE $WIDE_ANNEAL $RECON $SCRATCH $SCRATCH_ANNEAL; do
    finished "$run" || { echo "$run has not finished training: not evaluated"; continue; }
    for task in pick-place conveyor-sort; do
      # The sampler seeded with 0 (the first seed), then once more per sampler seed in SAMPLERS
      # (e.g. SAMPLERS="1 2"; compare.mjs pools them).
      for sampler in 0 ${SAMPLERS:-}; do
        json="$OUT/eval-$run-$task.json"
        [ "$sampler" = 0 ] || json="$OUT/eval-$run-$task-sampler$sampler.json"
        # An evaluation stopped part-way (Ctrl-C) writes its summary too: run it again in full.
        complete "$json" ||
          node apps/controller/dist/cli.js run "$OUT/$run/checkpoints/$(cat "$OUT/$run/checkpoints/latest")/policy.safetensors" --task "$task" --robot lift2 \
            --camera gpu --image-size 64 --episodes "$EVAL_EPISODES" --seed 0 --sampler-seed "$sampler" --lockstep --delay 0 --json "$json"
      done
    done
  done
  # A pair not yet evaluated prints as such.
  for pair in "$ANNEAL" "$LONG" "$WIDE" "$WIDE_ANNEAL" "$RECON" "$SCRATCH" "$SCRATCH_ANNEAL"; do node $HERE/compare.mjs "$OUT" $pair; done
fi

if [ "${STAGE:-}" = ship ]; then
  # A run with the generation expert becomes @vla/pretrained's tiny-lift2, with its training record.
  node $HERE/ship.mjs "$OUT/$SHIP" ${STATUS:+--status "$STATUS"} ${EVALUATED:+--evaluated "$EVALUATED"}
fi
