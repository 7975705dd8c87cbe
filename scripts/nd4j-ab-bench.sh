#!/usr/bin/env bash
# A/B speed comparison of the nd4j backend: this working tree (B) against another commit (A, default main),
# in one sitting. Builds A from `git archive` in a temporary directory (offline, nothing installed), then
# runs the workloads alternately (A B B A A B ...) in fresh JVMs, one native thread each, and prints every
# run, the medians over runs and the ratios B / A:
#   tutorial  the tutorial's MLP: each build's own Nd4jBenchmark (the same program on both sides; model.step
#             alone, the trainer's loop, DDPM-100 and DDIM-20 sampling of 1000 images), without PyTorch
#   image     the default U-Net at batch 64: Nd4jImageBenchmark.java of this tree, compiled against both
#             builds (training step, forward pass, DDIM sampling)
#
#   scripts/nd4j-ab-bench.sh [ref=main] [rounds=3] [workloads="tutorial image"]
#
# Extra JVM flags for both sides: BENCH_JAVA_OPTS (e.g. "-Dbench.reps=5 -Dbench.steps=5").
set -euo pipefail

REF=${1:-main}
ROUNDS=${2:-3}
WORKLOADS=${3:-tutorial image}
ROOT=$(git rev-parse --show-toplevel)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nd4j-ab.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=backend-nd4j/src/test/java/io/github/diffusion4j/backend/nd4j/Nd4jImageBenchmark.java

# the test class path of a checkout, with the reactor's own diffusion-api, testkit and backend-nd4j classes
# (the testkit was the api's test-classes before diffusion-testkit, so both are listed for older checkouts)
classpath() {
  local dir=$1 out=$2
  (cd "$dir" && ./mvnw -o -q -B -pl backend-nd4j -am test-compile -DskipTests \
    && ./mvnw -o -q -B -pl backend-nd4j -am dependency:build-classpath \
         -Dmdep.outputFile="$out" -Dmdep.includeScope=test) >&2
  local deps
  deps=$(tr ':' '\n' < "$out" | grep -v '/io/github/diffusion4j/' | paste -sd: -)
  echo "$dir/backend-nd4j/target/test-classes:$dir/backend-nd4j/target/classes:$dir/diffusion-testkit/target/classes:$dir/diffusion-api/target/test-classes:$dir/diffusion-api/target/classes:$deps"
}

bench_classes() {
  local cp=$1 out=$2
  mkdir -p "$out"
  javac -nowarn -d "$out" -cp "$cp" "$ROOT/$SRC"
}

echo "# A = $REF ($(git -C "$ROOT" rev-parse --short "$REF")), B = working tree of $(git -C "$ROOT" rev-parse --abbrev-ref HEAD) ($(git -C "$ROOT" rev-parse --short HEAD))"
mkdir -p "$WORK/a"
git -C "$ROOT" archive "$REF" | tar -x -C "$WORK/a"
echo "# building A" >&2
CP_A=$(classpath "$WORK/a" "$WORK/cp-a.txt")
echo "# building B" >&2
CP_B=$(classpath "$ROOT" "$WORK/cp-b.txt")
bench_classes "$CP_A" "$WORK/bench-a"
bench_classes "$CP_B" "$WORK/bench-b"

run() {
  local side=$1 workload=$2 cp
  if [ "$side" = A ]; then cp="$WORK/bench-a:$CP_A"; else cp="$WORK/bench-b:$CP_B"; fi
  if [ "$workload" = tutorial ]; then
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 java -Xmx2g -XX:+UseSerialGC -Dbench.torch=none ${BENCH_JAVA_OPTS:-} \
      -cp "$cp" io.github.diffusion4j.backend.nd4j.Nd4jBenchmark 2>/dev/null \
      | sed -n 's/^nd4j  {/{"workload": "tutorial", /p' | sed "s/^/$side /"
  else
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 java -Xmx3g ${BENCH_JAVA_OPTS:-} -cp "$cp" \
      io.github.diffusion4j.backend.nd4j.Nd4jImageBenchmark 2>/dev/null | grep '^{' | sed "s/^/$side /"
  fi
}

RESULTS="$WORK/results.txt"
for workload in $WORKLOADS; do
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order="A B"; else order="B A"; fi
    for side in $order; do
      run "$side" "$workload" | tee -a "$RESULTS"
    done
  done
done

python3 - "$RESULTS" <<'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, doc = line.split(' ', 1)
    d = json.loads(doc)
    w = d.pop('workload')
    for k, v in d.items():
        runs.setdefault((w, k), {}).setdefault(side, []).append(v)
print("# medians over runs; ratio = B / A (rates: higher is better for B; times: lower is better for B)")
for (w, k), sides in runs.items():
    a = statistics.median(sides.get('A', [float('nan')]))
    b = statistics.median(sides.get('B', [float('nan')]))
    print(f"{w:9s} {k:12s} A {a:10.4g}  B {b:10.4g}  B/A {b / a:6.3f}")
EOF
