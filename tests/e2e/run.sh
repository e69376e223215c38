#!/usr/bin/env bash
# ctxgen's end-to-end suite: boot what ctxgen generates in a real Debian 13 VM and
# check, inside the running VM, that every feature did what the spec says.
#
#   tests/e2e/run.sh [--only smoke|network] [OUT_DIR]
#
# OUT_DIR (default: $CTXGEN_E2E_OUT or /tmp/ctxgen-e2e) is emptied and receives
# everything: seeds, disks, consoles, probe reports, service logs, results.txt.
#
# In order:
#   1. the tools (a missing one fails the suite, naming its Debian package);
#   2. the image: build-image.sh (cached by recipe; ~5 min the first time, as root);
#   3. ctxgen itself: cargo build (debug);
#   4. smoke: specs/smoke.yaml, no network: `ctxgen seed`, a first boot, a second
#      boot of the same disks, check_smoke.py;
#   5. network: specs/network.yaml with a local apt repository, git server and Vault
#      API fixture on this machine's loopback (net.py): one boot, checks.
# Every assertion prints one line, PASS or FAIL (the harness's own steps too); TIME
# lines give the image build and each boot, a NOTE line the accelerator (KVM when a KVM
# guest really runs here, else TCG); the last line is `N passed, M failed`.
# Exit status: 0 only when nothing failed (and something was checked).
#
# Environment: CTXGEN_E2E_CACHE (image cache, default /var/cache/ctxgen-e2e),
# CTXGEN_E2E_REBUILD=1 (rebuild the image), CTXGEN_E2E_TIMEOUT (seconds per boot,
# default 900), CTXGEN_E2E_ACCEL=kvm|tcg (no KVM check), CTXGEN_E2E_VERBOSE=1
# (evidence for passing checks too).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH=$PATH:/usr/sbin:/sbin
# shellcheck source=lib.sh
source "$HERE/lib.sh"

ONLY=
while (($#)); do
  case $1 in
    --only)
      ONLY=${2:-}
      [[ $ONLY == smoke || $ONLY == network ]] || { echo "--only smoke|network" >&2; exit 2; }
      shift 2
      ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
OUT=${1:-${CTXGEN_E2E_OUT:-/tmp/ctxgen-e2e}}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
RESULTS=$OUT/results.txt
: >"$RESULTS"
SUITE_START=$SECONDS

# Every result line goes to the terminal and to results.txt.
emit() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
pass() { emit "PASS  $*"; }
fail() { emit "FAIL  $*"; }
timing() { emit "TIME  $1: $2 s"; }
step() { printf '\n== %s\n' "$*" >&2; }
# A checker's output, line by line, into results.txt as well.
collect() { tee -a "$RESULTS"; }

finish() {
  local passed failed
  passed=$(grep -c '^PASS ' "$RESULTS")
  failed=$(grep -c '^FAIL ' "$RESULTS")
  timing "whole suite" $((SECONDS - SUITE_START))
  emit "$passed passed, $failed failed"
  [[ $failed == 0 && $passed -gt 0 ]]
  exit $?
}

# --- 1. tools ------------------------------------------------------------------------
step "tools"
tools_ok=1
e2e_need "${E2E_IMAGE_TOOLS[@]}" "${E2E_BOOT_TOOLS[@]}" "${E2E_NET_TOOLS[@]}" cargo:cargo ||
  tools_ok=0
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "e2e: python3 cannot import yaml: apt-get install python3-yaml" >&2
  tools_ok=0
fi
if ((tools_ok)); then
  pass "harness: every tool the suite needs is installed"
else
  fail "harness: tools missing (see the messages above); nothing was booted"
  finish
fi

# --- 2. image ------------------------------------------------------------------------
step "image"
start=$SECONDS
if IMAGE=$("$HERE/build-image.sh") && DEBS=$(CTXGEN_E2E_REBUILD=0 "$HERE/build-image.sh" --debs); then
  timing "image (build or cache)" $((SECONDS - start))
  pass "harness: image $(basename "$IMAGE") and package cache $(basename "$DEBS") ready"
else
  timing "image (failed)" $((SECONDS - start))
  fail "harness: the e2e image could not be built (see [build-image] messages above)"
  finish
fi
export CTXGEN_E2E_IMAGE=$IMAGE
# KVM or TCG, decided once for every boot of the run.
if ! CTXGEN_E2E_ACCEL=$(e2e_accel "$IMAGE/vmlinuz" 2>"$OUT/accel.txt"); then
  CTXGEN_E2E_ACCEL=tcg
fi
export CTXGEN_E2E_ACCEL
emit "NOTE  $(cat "$OUT/accel.txt")"

# --- 3. ctxgen -----------------------------------------------------------------------
step "cargo build"
start=$SECONDS
if (cd "$ROOT" && cargo build -q); then
  timing "cargo build" $((SECONDS - start))
  pass "harness: cargo build"
else
  fail "harness: cargo build failed"
  finish
fi
CTXGEN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/ctxgen
[[ $CTXGEN == /* ]] || CTXGEN=$ROOT/$CTXGEN

# --- 4. smoke: no network, two boots ---------------------------------------------------
smoke() {
  local dir=$OUT/smoke n
  mkdir -p "$dir"
  step "smoke: ctxgen seed specs/smoke.yaml"
  if "$CTXGEN" seed "$HERE/specs/smoke.yaml" --out "$dir/seed.iso" 2>"$dir/seed.err" &&
    [[ ! -s $dir/seed.err ]]; then
    pass "smoke: ctxgen seed builds specs/smoke.yaml without a diagnostic"
  else
    fail "smoke: ctxgen seed builds specs/smoke.yaml without a diagnostic"
    sed 's/^/        | /' "$dir/seed.err" | collect
    [[ -s $dir/seed.iso ]] || return
  fi
  step "smoke: first boot"
  if "$HERE/boot.sh" --probe "$HERE/specs/smoke.probe.json" "$dir/seed.iso" "$dir/vm"; then
    pass "smoke: boot 1 ran and the probe reported"
  else
    fail "smoke: boot 1 ran and the probe reported"
  fi
  [[ -f $dir/vm/boot-1/seconds ]] && timing "smoke boot 1" "$(cat "$dir/vm/boot-1/seconds")"
  [[ -f $dir/vm/boot-1/report.json ]] || return
  step "smoke: second boot (same disks)"
  if "$HERE/boot.sh" --again "$dir/vm"; then
    pass "smoke: boot 2 ran and the probe reported"
  else
    fail "smoke: boot 2 ran and the probe reported"
  fi
  [[ -f $dir/vm/boot-2/seconds ]] && timing "smoke boot 2" "$(cat "$dir/vm/boot-2/seconds")"
  step "smoke: checks"
  CTXGEN_E2E_PART=smoke python3 "$HERE/check_smoke.py" "$dir/vm" | collect
}

# --- 5. network: local services, one boot ----------------------------------------------
network() {
  step "network: services on loopback, ctxgen seed, boot, checks"
  CTXGEN_E2E_PART=network python3 "$HERE/net.py" "$OUT/network" --ctxgen "$CTXGEN" \
    --debs "$DEBS" --image "$IMAGE" | collect
  [[ ${PIPESTATUS[0]} -le 1 ]] || fail "network: net.py stopped with an error (see above)"
}

[[ $ONLY == network ]] || smoke
[[ $ONLY == smoke ]] || network
finish
