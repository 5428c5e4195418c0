#!/usr/bin/env bash
# Ablations of METHOD.md: compensation on/off × normalisation on/off × bit
# width, then the optimiser settings (the patent's plain SGD and thresholds)
# and the L2 weight λ. Prints a Markdown table of test accuracy per setting.
#
#   tools/ablation.sh [--data mnist] [--limit 10000] [--epochs 1] [--device cpu]
#
# Every run uses the same seed, data subset and test set; only the named
# setting changes. Runs are short (a subset, one epoch) so the table fits in
# minutes on 2 cores: compare rows with each other, not with full runs.
set -euo pipefail
cd "$(dirname "$0")/.."
data=mnist limit=10000 epochs=1 device=cpu
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2;; --limit) limit=$2; shift 2;;
    --epochs) epochs=$2; shift 2;; --device) device=$2; shift 2;;
    *) echo "unknown flag $1" >&2; exit 2;;
  esac
done
bin=$(mktemp -d)/vktrain
go build -o "$bin" ./cmd/vktrain
run() { # label, flags...
  local label=$1; shift
  local out
  out=$("$bin" train --data "$data" --limit "$limit" --epochs "$epochs" --device "$device" --json --out "" "$@" 2>/dev/null | tail -1)
  python3 -c 'import json,sys; r=json.loads(sys.argv[2]); print("| %s | %.2f%% | %.4f | %.4f | %.0f |" % (sys.argv[1], 100*r["test_accuracy"], r["test_loss"], r["train_loss"], r["images_per_second"]))' "$label" "$out"
}
echo "data $data, first $limit training images, $epochs epoch(s), device $device, seed 1"
echo
echo "| setting | test accuracy | test loss | train loss | train img/s |"
echo "|---|---|---|---|---|"
for bits in 8 4 2; do
  for comp in true false; do
    for norm in true false; do
      run "int$bits, comp=$comp, bn=$norm" --bits $bits --comp=$comp --norm=$norm
    done
  done
done
run "float, comp=true, bn=true" --float
run "float, comp=false, bn=true" --float --comp=false
run "int8 stats-mode scale/zero" --qmode stats
run "int8 mse calibration" --calib mse
run "int4 mse calibration" --bits 4 --calib mse
run "patent: SGD lr 0.01, momentum 0, τ 0.01" --momentum 0 --threshold 0.01
run "patent: SGD lr 0.01, momentum 0, τ 0.1" --momentum 0 --threshold 0.1
run "plain SGD lr 0.01, no threshold" --momentum 0 --threshold 0
run "momentum 0.9, τ 0.01" --threshold 0.01
run "momentum 0.9, no threshold" --threshold 0
run "momentum 0.9, global-norm τ 5" --threshold-mode global-norm --threshold 5
for l2 in 0 1e-2 1; do
  run "λ = $l2" --l2 $l2
done
