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
if [ -x tools/glslc.sh ]; then tools/glslc.sh --check; fi
# lavapipe: keep its worker threads to the machine's cores.
export VKTRAIN_VALIDATION=1
go test -count=1 -timeout 20m "$@" ./...
