#!/usr/bin/env bash
# Writes Fashion-MNIST as folders of PNG files, one sub-folder per class, for data.kind: folder.
#
# Usage:
#   scripts/fashion-mnist-pngs.sh [IDX_DIR [OUT_DIR]]
#       IDX_DIR: the four IDX .gz files (default data/fashion-mnist/, where scripts/fetch-fashion-mnist.sh puts
#       them; it is run first when they are missing); OUT_DIR: default data/fashion-mnist-png/
#
# Writes OUT_DIR/train/<label>-<class>/<index>.png (60,000) and OUT_DIR/test/... (10,000): 28x28 8-bit gray,
# <index> the image's position in its IDX file, class folders named so that they sort in label order
# (0-tshirt-top ... 9-ankle-boot). Each split is written to a temporary folder and renamed into place.
# Then: ./diffusion data check data/fashion-mnist-png/train ; ./diffusion train -c configs/fashion-mnist-folder.yaml
# Needs bash and Node.js (>= 16). See docs/data.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
case "${1:-}" in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
idx="${1:-$root/data/fashion-mnist}"
out="${2:-$root/data/fashion-mnist-png}"
command -v node >/dev/null || { echo "fashion-mnist-pngs: Node.js (node) is needed" >&2; exit 1; }
if [ ! -f "$idx/train-images-idx3-ubyte.gz" ] && [ -z "${1:-}" ]; then
  "$here/fetch-fashion-mnist.sh"
fi
mkdir -p "$out"
node "$here/fashion-mnist.mjs" pngs "$idx" "$out"
