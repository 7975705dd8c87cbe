#!/usr/bin/env bash
# A/B speed comparison in one sitting: this working tree (B) against another commit (A), each timed with its
# own `./diffusion bench` (each side's workloads and PyTorch reference), alternately A B B A A B ... so that a
# drift of the machine falls on both sides. Prints every run's table, labelled.
#
#   scripts/ab-bench.sh REF ROUNDS [diffusion bench arguments ...]
#   scripts/ab-bench.sh 50d32ae 3 --workload unet --backend nd4j --no-reference
#
# REF is checked out with `git worktree add --detach` into a temporary folder (removed at the end) and built
# there by its own launcher on first use (its Maven build). REF may also be the folder of a checkout kept for
# repeated comparisons (e.g. one made with `git worktree add --detach ../ref 50d32ae`), which is used as it is
# and built once. A REF must have `diffusion bench` (older commits ran it
# from the CLI, newer ones from the benchmarks module; the launcher hides the difference) and understand the
# arguments given. Compare the ratios against PyTorch of the two sides rather than absolute times.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
ref=$1
rounds=$2
shift 2
case "$rounds" in ''|0|*[!0-9]*) echo "ab-bench: ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2 ;; esac
root=$(git rev-parse --show-toplevel)
if [ -d "$ref" ]; then
  [ -x "$ref/diffusion" ] && git -C "$ref" rev-parse --verify --quiet HEAD >/dev/null \
    || { echo "ab-bench: REF '$ref' is a folder but not a checkout with a diffusion launcher" >&2; exit 2; }
  a=$(cd "$ref" && pwd)
else
  git -C "$root" rev-parse --verify --quiet "$ref^{commit}" >/dev/null \
    || { echo "ab-bench: REF '$ref' is neither a commit of $root nor a checkout's folder" >&2; exit 2; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/ab-bench.XXXXXX")
  cleanup() { git -C "$root" worktree remove --force "$work/a" >/dev/null 2>&1 || true; rm -rf "$work"; }
  trap cleanup EXIT
  git -C "$root" worktree add --detach "$work/a" "$ref" >/dev/null
  a=$work/a
fi
side() {
  local label=$1 dir=$2
  echo "=== $label ($(git -C "$dir" rev-parse --short HEAD)$( [ "$dir" = "$root" ] && ! git -C "$dir" diff --quiet && echo ", with changes"))"
  shift 2
  (cd "$dir" && ./diffusion bench "$@")
}
for ((r = 1; r <= rounds; r++)); do
  echo "##### round $r of $rounds"
  if ((r % 2 == 1)); then
    side A "$a" "$@"; side B "$root" "$@"
  else
    side B "$root" "$@"; side A "$a" "$@"
  fi
done
