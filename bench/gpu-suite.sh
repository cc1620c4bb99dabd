#!/usr/bin/env bash
# The whole benchmark suite on a machine with a real GPU (Vulkan), in one go and under 8 minutes:
# prints the adapter, then `patt-lite bench --budget 420` (a soft budget: sections that would not
# fit are skipped and listed in the results). Results land in bench/results/ (latest.md/json and
# dated copies); with $OUT set (the device machine's output folder) they are copied there too.
#
#   bash bench/gpu-suite.sh [ADAPTER]     ADAPTER: substring of the adapter name (or env PATT_ADAPTER)
#
# Run `npm ci` first on a fresh checkout. For a GPU machine without npm or network, see
# scripts/build-device-bundle.mjs and scripts/device-run.sh instead (README). Mesa's lavapipe also shows up as a Vulkan adapter on most
# Linux machines; Dawn prefers the discrete GPU ('high-performance'), but name it to be sure,
# e.g. `bash bench/gpu-suite.sh NVIDIA`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${1:-}" ]]; then export PATT_ADAPTER="$1"; fi
export PATT_BACKEND="${PATT_BACKEND:-vulkan}"
echo "== $(date -u +%FT%TZ) on $(hostname), PATT_ADAPTER=${PATT_ADAPTER:-(any)} PATT_BACKEND=$PATT_BACKEND"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
# Dawn prints two "Warning: max…" limit notices per device; they are not ours.
node bin/patt-lite.js info 2>&1 | grep -v '^Warning: max' | head -20
start=$SECONDS
set +e
timeout 470 node bin/patt-lite.js bench --budget 420 "${@:2}" 2>&1 | grep -v '^Warning: max'
status=${PIPESTATUS[0]}
set -e
echo "== bench finished in $((SECONDS - start)) s with exit code $status"
if [[ -n "${OUT:-}" && -d "${OUT}" ]]; then cp bench/results/latest.md bench/results/latest.json "$OUT"/ 2>/dev/null || true; fi
exit "$status"
