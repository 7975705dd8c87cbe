#!/usr/bin/env bash
# A/B timing of the DJL backend: a git ref (A, default main) against this working tree (B), in one sitting.
#
# Both sides run the same benchmark program (this tree's backend-djl DjlBenchmark, which uses the api only),
# each run in its own JVM, alternating A B / B A round after round so both see the same machine load; the
# summary gives the median of each figure per side and the ratio B / A.
#
#   scripts/djl-ab-bench.sh [REF] [WORKLOAD] [ROUNDS]      e.g.  scripts/djl-ab-bench.sh main mlp 5
#
# WORKLOAD is mlp (the tutorial's workload: training steps/s, DDPM-100 and DDIM-20 of 1000 images) or unet
# (the default U-Net at batch 64: training steps/s, a forward pass, DDIM-20 of 64 images). Extra JVM options
# for both sides (e.g. -Dbench.reps=5 -Dbench.threads=2) go in BENCH_OPTS. Builds offline with the reactor
# (never installs); the snapshot of REF is built in a temporary folder (or AB_DIR), which is kept.
set -euo pipefail

ref=${1:-main}
workload=${2:-mlp}
rounds=${3:-3}
root=$(git rev-parse --show-toplevel)
work=${AB_DIR:-$(mktemp -d -t djl-ab.XXXXXX)}
bench=backend-djl/src/test/java/io/github/diffusion4j/backend/djl/DjlBenchmark.java

build() {
  (cd "$1" && ./mvnw -o -q -pl backend-djl -am test-compile dependency:build-classpath \
      -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test)
}

classpath() {
  echo "$1/backend-djl/target/test-classes:$1/backend-djl/target/classes:$(cat "$1/backend-djl/target/test.classpath")"
}

if [ ! -d "$work/a" ]; then
  mkdir -p "$work/a"
  git -C "$root" archive "$ref" | tar -x -C "$work/a"
fi
cp "$root/$bench" "$work/a/$bench"
echo "# building A ($ref) in $work/a and B (the working tree)" >&2
build "$work/a"
build "$root"
cp_a=$(classpath "$work/a")
cp_b=$(classpath "$root")

results="$work/results-$workload.jsonl"
: > "$results"
run() {
  local side=$1 cp=$2 line
  line=$(java -Xmx2g -Dai.djl.offline=true -Dbench.workload="$workload" ${BENCH_OPTS:-} -cp "$cp" \
      io.github.diffusion4j.backend.djl.DjlBenchmark 2>/dev/null | grep '^{' | tail -1)
  echo "$side $line" | tee -a "$results" >&2
}
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    run A "$cp_a"; run B "$cp_b"
  else
    run B "$cp_b"; run A "$cp_a"
  fi
done

python3 - "$results" "$ref" <<'EOF'
import json, statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    side, js = line.split(" ", 1)
    runs[side].append(json.loads(js))
keys = [k for k, v in runs["A"][0].items() if isinstance(v, float)]
print(f"A = {sys.argv[2]}, B = working tree; medians of {len(runs['A'])} runs each")
print(f"{'figure':28s} {'A':>12s} {'B':>12s} {'B/A':>8s}")
for k in keys:
    a = statistics.median(r[k] for r in runs["A"])
    b = statistics.median(r[k] for r in runs["B"])
    print(f"{k:28s} {a:12.4f} {b:12.4f} {b / a:8.3f}")
print("(steps/s: higher is better; seconds: lower is better)")
EOF
