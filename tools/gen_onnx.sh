#!/usr/bin/env bash
# Generates the Go types of the ONNX protobuf schema into onnx/onnxpb/onnx.pb.go
# (committed; the exporter writes models only through these types and
# google.golang.org/protobuf, never by hand).
#
#   tools/gen_onnx.sh           regenerate onnx/onnxpb/onnx.pb.go
#   tools/gen_onnx.sh --check   exit 1 when the committed file differs from what
#                               the installed onnx.proto and protoc give
#
# Needs: protoc (Debian: protobuf-compiler), onnx.proto (Debian: libonnx-dev,
# /usr/include/onnx/onnx.proto; another path with ONNX_PROTO=...) and
# protoc-gen-go of the google.golang.org/protobuf version in go.mod (installed
# into $(go env GOPATH)/bin when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"
proto=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
if [ ! -f "$proto" ]; then
  echo "gen_onnx: $proto not found (apt-get install libonnx-dev, or set ONNX_PROTO)" >&2; exit 1
fi
command -v protoc >/dev/null || { echo "gen_onnx: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
ver=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
if ! command -v protoc-gen-go >/dev/null || [ "$(protoc-gen-go --version | awk '{print $2}')" != "$ver" ]; then
  (cd /tmp && GOFLAGS= go install "google.golang.org/protobuf/cmd/protoc-gen-go@$ver")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$proto" "$tmp/onnx.proto"
protoc -I "$tmp" --go_out="$tmp" --go_opt=paths=source_relative \
  --go_opt=Monnx.proto=github.com/vktrain/vktrain/onnx/onnxpb "$tmp/onnx.proto"
if [ "${1:-}" = --check ]; then
  if ! cmp -s "$tmp/onnx.pb.go" onnx/onnxpb/onnx.pb.go; then
    echo "gen_onnx: onnx/onnxpb/onnx.pb.go is stale or edited: run tools/gen_onnx.sh" >&2; exit 1
  fi
  echo "gen_onnx: onnx/onnxpb/onnx.pb.go is up to date"; exit 0
fi
mv "$tmp/onnx.pb.go" onnx/onnxpb/onnx.pb.go
echo "gen_onnx: wrote onnx/onnxpb/onnx.pb.go from $proto ($(protoc --version), protoc-gen-go $ver)"
