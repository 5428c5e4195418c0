#!/usr/bin/env bash
# The project's test command: set-up, then formatting, vet, shader staleness
# and the whole test suite (Vulkan tests on lavapipe with the Khronos
# validation layer on; they fail on any validation message).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tools/setup.sh
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad" >&2; exit 1; fi
go vet ./...
go vet -tags view ./view/... ./cmd/vktrain
if [ -x tools/glslc.sh ]; then tools/glslc.sh --check; fi
# The generated ONNX protobuf types match onnx.proto (needs protoc and libonnx-dev).
if command -v protoc >/dev/null && [ -f /usr/include/onnx/onnx.proto ]; then tools/gen_onnx.sh --check; fi
# lavapipe: keep its worker threads to the machine's cores.
export VKTRAIN_VALIDATION=1
go test -count=1 -timeout 20m "$@" ./...
# The arm64 (NEON) assembly of internal/sgemm, internal/qsimd and
# internal/qgemm (SDOT: qemu's default CPU has the dot product), and the CPU
# backend on arm64 (its int8 path held to its float path), cross-compiled and
# run under qemu.
if command -v qemu-aarch64 >/dev/null; then
  mkdir -p .cache/arm64
  GOARCH=arm64 CGO_ENABLED=0 go vet ./internal/... ./nn/ref
  for pkg in sgemm qsimd qgemm; do
    GOARCH=arm64 CGO_ENABLED=0 go test -c -o .cache/arm64/$pkg.test ./internal/$pkg
    qemu-aarch64 .cache/arm64/$pkg.test -test.count=1 -test.short -test.v | grep -E '^(--- |ok|PASS|FAIL)|Kernel' 
  done
  GOARCH=arm64 CGO_ENABLED=0 go test -c -o .cache/arm64/ref.test ./nn/ref
  qemu-aarch64 .cache/arm64/ref.test -test.count=1 -test.short
else
  echo "test: qemu-aarch64 not installed: skipping the arm64 tests (tools/setup.sh installs qemu-user)" >&2
fi
# The --view window (build tag view: cgo, GLFW, X11) under Xvfb, presenting
# through lavapipe; the tests skip, saying so, where Xvfb is missing.
if command -v Xvfb >/dev/null; then
  go test -count=1 -timeout 10m -tags view "$@" ./view/... ./cmd/vktrain -run 'Window|View'
else
  echo "test: Xvfb not installed: skipping the --view window tests (tools/setup.sh installs it)" >&2
fi
