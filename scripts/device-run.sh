#!/usr/bin/env bash
# Runs the GPU checks and the benchmark suite on an offline linux-x64 machine with a GPU, from a copy
# of this checkout that has .device/ (scripts/build-device-bundle.mjs) but no node_modules, and maybe
# no Node: the adapter, the smoke check, the GPU tests (.device/app/spec: kernels, graph, layers) and
# `patt-lite bench`. Each step has its own time limit so that one slow step leaves the others
# their time. Results go to $OUT (the folder that comes back), else to bench/results.
#
#   bash scripts/device-run.sh [ADAPTER]      ADAPTER: substring of the adapter name (default NVIDIA;
#                                             env PATT_ADAPTER wins; set but empty: any adapter)
# Environment:
#   DEVICE_TEST_S     time limit of the GPU tests (default 150 s; 0 skips them)
#   DEVICE_BENCH_S    the bench's soft budget (default 300 s; 0 skips it); its hard limit is 60 s more
#   DEVICE_BENCH_ARGS more options for `patt-lite bench` (e.g. "--only kernels")
#   DEVICE_SPEC       spec files to run instead of all, relative to .device/app/spec (e.g. "kernels/matmul.test.mjs")
#   DEVICE_NODE       "bundled": use the bundle's Node even where the machine has one
#   DEVICE_BUNDLE     the bundle's folder (default .device)
#
# With $OUT set only a few files are written there (a machine may hand back only a few): device-info.txt,
# device-tests.txt and the run's bench-<date>.json / .md. Copy the .json into bench/results/ and run
# `patt-lite bench --history` to see it beside the other runs.
#
# Exit code: 0 when every step passed; else the first failure: 3 no adapter, 4 the smoke check,
# 1x the tests, 2x the bench (x: that step's exit code, capped at 9; the log says which, 124 being
# its time limit).
set -uo pipefail
cd "$(dirname "$0")/.."
D=${DEVICE_BUNDLE:-.device}
if [[ ! -f $D/manifest.json ]]; then
  echo "device-run: $D/manifest.json is missing; build it first: node scripts/build-device-bundle.mjs" >&2
  exit 2
fi
OUT_DIR=${OUT:-bench/results}
mkdir -p "$OUT_DIR"
export PATT_ADAPTER=${PATT_ADAPTER-${1:-NVIDIA}}
export PATT_BACKEND=${PATT_BACKEND:-vulkan}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

# xz may be missing on a minimal image; Python's lzma reads the same files.
unxz_to() {
  xz -dc "$1" > "$2" 2>/dev/null ||
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1" > "$2"
}

# Node: the bundle's (unpacked once) unless the machine has Node 20 or newer (DEVICE_NODE=bundled
# takes the bundle's anyway).
NODE=node
if [[ ${DEVICE_NODE:-} == bundled ]] || ! command -v node >/dev/null ||
  [[ $(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) -lt 20 ]]; then
  if [[ ! -f $D/node.xz ]]; then echo "device-run: no Node >= 20 here and none in $D (built with --no-node)" >&2; exit 2; fi
  NODE=$D/node
  [[ -x $NODE ]] || { unxz_to "$D/node.xz" "$NODE" && chmod +x "$NODE"; }
fi
DAWN=$D/node_modules/webgpu/dist/linux-x64/dawn.node
[[ -f $DAWN ]] || unxz_to "$DAWN.xz" "$DAWN"

# The Vulkan loader: some GPU images ship the driver's ICD but not libvulkan.so.1.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  for f in "$D"/debs/*.deb; do [[ -f $f ]] && dpkg -x "$f" /; done
  ldconfig 2>/dev/null || true
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} && -f $NV_ICD ]]; then export VK_DRIVER_FILES=$NV_ICD; fi

echo "== $(date -u +%FT%TZ) $(hostname): node $("$NODE" --version), PATT_ADAPTER=$PATT_ADAPTER, bundle $(grep -m1 '"rev"' "$D/manifest.json" | tr -d ' ,')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
CLI=("$NODE" "$D/app/cli.mjs")
quiet() { grep -v '^Warning: max'; }
"${CLI[@]}" info 2>&1 | quiet | tee "$OUT_DIR/device-info.txt"
rc=${PIPESTATUS[0]}
if [[ $rc != 0 ]]; then echo "== no usable adapter (patt-lite info: exit $rc)"; exit 3; fi
status=0
"${CLI[@]}" smoke 2>&1 | quiet | tail -3
rc=${PIPESTATUS[0]}
[[ $rc != 0 ]] && status=4

TEST_S=${DEVICE_TEST_S:-150}
if [[ $TEST_S != 0 ]]; then
  start=$SECONDS
  read -r -a specs <<< "${DEVICE_SPEC:-}"
  if [[ ${#specs[@]} -eq 0 ]]; then
    mapfile -t specs < <(cd "$D/app/spec" && find . -name '*.test.mjs' | sort)
  fi
  specs=("${specs[@]/#/$D/app/spec/}")
  # --no-config / --no-package: the checkout's .mocharc loads TypeScript through tsx, which is not here.
  timeout "$TEST_S" "$NODE" "$D/node_modules/mocha/bin/mocha.js" --no-config --no-package --timeout 300000 \
    --reporter dot --require "$D/app/spec/setup.mjs" "${specs[@]}" 2>&1 | quiet | tee "$OUT_DIR/device-tests.txt" | tail -40
  rc=${PIPESTATUS[0]}
  echo "== GPU tests: exit $rc after $((SECONDS - start)) s (limit $TEST_S s; 124 = over it)"
  [[ $rc != 0 && $status == 0 ]] && status=$((10 + (rc > 9 ? 9 : rc)))
fi

BENCH_S=${DEVICE_BENCH_S:-300}
if [[ $BENCH_S != 0 ]]; then
  start=$SECONDS
  read -r -a extra <<< "${DEVICE_BENCH_ARGS:-}"
  results=$OUT_DIR
  [[ -n ${OUT:-} ]] && results=$(mktemp -d)/results
  timeout $((BENCH_S + 60)) "${CLI[@]}" bench --budget "$BENCH_S" --out "$results" "${extra[@]}" 2>&1 | quiet
  rc=${PIPESTATUS[0]}
  [[ $results != "$OUT_DIR" ]] && cp "$results"/bench-*.json "$results"/bench-*.md "$OUT_DIR"/ 2>/dev/null
  echo "== bench: exit $rc after $((SECONDS - start)) s (budget $BENCH_S s)"
  [[ $rc != 0 && $status == 0 ]] && status=$((20 + (rc > 9 ? 9 : rc)))
fi
exit $status
