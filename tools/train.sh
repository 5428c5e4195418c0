#!/usr/bin/env bash
# The project's main job: set-up, then train the reference network on MNIST
# (int8, 3 epochs, batch 64, --device auto). Extra arguments go to
# "vktrain train", e.g. tools/train.sh --device cpu --epochs 1.
#
# vktrain is built into .cache/bin/ (git-ignored; VKTRAIN_BIN overrides the
# path) and exec'd, so its exit status is the script's: 0 done, 1 failure,
# 2 bad flags, 130 interrupted after saving (go run would turn every
# failure into 1). Paths are relative to the repository root, where the
# run starts (runs/NAME/ is created there). VKTRAIN_SKIP_SETUP=1 skips
# tools/setup.sh.
set -euo pipefail
# How the user started this script, for vktrain's resume hint.
printf -v invoked '%q' "$0"
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ "${VKTRAIN_SKIP_SETUP:-0}" != 1 ]; then
  tools/setup.sh
fi
bin=${VKTRAIN_BIN:-.cache/bin/vktrain}
mkdir -p "$(dirname "$bin")"
# Stamp the VCS revision when git can read the checkout; build without it
# otherwise (no git, or a checkout owned by another user).
if ! go build -buildvcs=auto -o "$bin" ./cmd/vktrain 2>/dev/null; then
  go build -buildvcs=false -o "$bin" ./cmd/vktrain
fi
export VKTRAIN_TRAIN_COMMAND=${VKTRAIN_TRAIN_COMMAND:-$invoked}
exec "$bin" train "$@"
