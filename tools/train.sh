#!/usr/bin/env bash
# The project's main job: set-up, then train the reference network on MNIST
# (int8, 3 epochs, batch 64, --device auto). Extra arguments go to
# "vktrain train", e.g. tools/train.sh --device cpu --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tools/setup.sh
exec go run ./cmd/vktrain train "$@"
