#!/usr/bin/env bash
# The e2e smoke test: compile specs/smoke.yaml with ctxgen, boot the result in a real
# VM, boot the same disks a second time, and check both probe reports.
#
#   tests/e2e/smoke.sh [OUT_DIR]      (default: $CTXGEN_E2E_OUT or /tmp/ctxgen-e2e-smoke)
#
# Takes roughly: image 2-5 min the first time (cached after), 4-5 min per boot
# under TCG. Needs root (debootstrap, on the first run) and PyYAML on the host.
# Exit status: that of check_smoke.py (0 when every expectation held).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-${CTXGEN_E2E_OUT:-/tmp/ctxgen-e2e-smoke}}

step() { printf '\n== %s\n' "$*" >&2; }
timed() {   # timed NAME CMD...: run CMD, note how long it took in $OUT/timings
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  printf '%-12s %4d s  (exit %d)\n' "$name" $((SECONDS - start)) "$rc" >>"$TIMINGS"
  return $rc
}

TIMINGS=$(mktemp)
trap 'rm -f "$TIMINGS"' EXIT

step "image"
timed image "$HERE/build-image.sh" >/dev/null
unset CTXGEN_E2E_REBUILD   # rebuilt once is enough: boot.sh asks for the image again

step "compile specs/smoke.yaml"
ud=$(mktemp)
(cd "$ROOT" && cargo run -q -- build tests/e2e/specs/smoke.yaml -o "$ud")

step "first boot"
timed boot-1 "$HERE/boot.sh" "$ud" "$OUT" "$HERE/specs/smoke.probe.json" || true
rm -f "$ud"

step "second boot (same disks)"
if [[ -f $OUT/boot-1/report.json ]]; then
  timed boot-2 "$HERE/boot.sh" --again "$OUT" || true
fi

step "timings"
cp "$TIMINGS" "$OUT/timings"
cat "$OUT/timings" >&2

step "checks"
python3 "$HERE/check_smoke.py" "$OUT" | tee "$OUT/checks.txt"
