#!/usr/bin/env bash
# Boot the e2e image once with a given user-data, and collect what the probe saw.
#
#   tests/e2e/boot.sh USER_DATA OUT_DIR [PROBE_JSON]   first boot, on fresh disks
#   tests/e2e/boot.sh --again OUT_DIR                  boot the same disks again
#
# First boot: OUT_DIR (made empty) gets
#   seed/ and seed.iso   NoCloud seed: user-data (byte for byte), meta-data
#                        (instance-id, local-hostname) and, when given, probe.json
#                        (what the probe should inspect; see probe/ctxgen-probe)
#   root.qcow2           copy-on-write overlay over the cached image (vda)
#   data.img             blank 1 GiB raw disk for volume tests (vdb)
# and every boot N (1, 2, ...) gets boot-N/:
#   console.log          the serial console
#   report.json          the probe's report (from the console, or from the disk if
#                        the console copy is damaged)
#   disk/                files read back from the VM's disk after power-off:
#                        cloud-init.log, cloud-init-output.log, the probe's
#                        report and full journal, the instance's user-data
#   data-disk.txt        the data disk's ext4 superblock summary (UUID, creation
#                        time, mount count) and its top-level files
#   seconds              how long the boot took, wall clock
# `--again` keeps the seed (same instance-id: cloud-init sees the same instance) and
# the disks, so it is a reboot: per-boot steps run again, per-instance ones do not.
#
# The VM runs under TCG (KVM does not work in the nested setup), one vCPU, with no
# network device at all (-nic none). CTXGEN_E2E_TIMEOUT (seconds, default 900) bounds
# each boot; CTXGEN_E2E_HOSTNAME sets meta-data's local-hostname.
# Exit status: 0 when a report was collected, 1 otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${CTXGEN_E2E_TIMEOUT:-900}
export PATH=$PATH:/usr/sbin:/sbin

# shellcheck source=build-image.sh
source "$HERE/build-image.sh"   # need_tools only; nothing is built by sourcing

log() { printf '[boot] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,6p' "$0" >&2; exit 2; }
need_tools

if [[ ${1:-} == --again ]]; then
  [[ $# == 2 ]] || usage
  OUT=$(realpath "$2")
  [[ -f $OUT/root.qcow2 && -f $OUT/seed.iso ]] || die "$OUT has no previous boot to repeat"
  IMAGE=$(cat "$OUT/image")
else
  [[ $# == 2 || $# == 3 ]] || usage
  USER_DATA=$1
  OUT=$2
  PROBE=${3:-}
  [[ -f $USER_DATA ]] || die "no such user-data: $USER_DATA"
  IMAGE=$("$HERE/build-image.sh")

  rm -rf "$OUT"
  mkdir -p "$OUT/seed"
  OUT=$(realpath "$OUT")
  echo "$IMAGE" >"$OUT/image"

  # NoCloud seed. The instance-id is new for every first boot, so cloud-init treats
  # the VM as a new instance; --again reuses it, as a reboot would.
  cp "$USER_DATA" "$OUT/seed/user-data"
  cat >"$OUT/seed/meta-data" <<EOF
instance-id: iid-ctxgen-e2e-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
local-hostname: ${CTXGEN_E2E_HOSTNAME:-ctxgen-e2e}
EOF
  seed_files=("$OUT/seed/user-data" "$OUT/seed/meta-data")
  if [[ -n $PROBE ]]; then
    python3 -m json.tool "$PROBE" >/dev/null || die "$PROBE is not JSON"
    cp "$PROBE" "$OUT/seed/probe.json"
    seed_files+=("$OUT/seed/probe.json")
  fi
  genisoimage -quiet -output "$OUT/seed.iso" -volid cidata -joliet -rock "${seed_files[@]}"

  # The image is never written: each test run writes to its own overlay.
  qemu-img create -q -f qcow2 -F raw -b "$IMAGE/rootfs.img" "$OUT/root.qcow2"
  qemu-img create -q -f raw "$OUT/data.img" 1G
fi

# Boot number: one more than the boots already in OUT.
n=1
while [[ -e $OUT/boot-$n ]]; do n=$((n + 1)); done
B=$OUT/boot-$n
mkdir -p "$B"
log "boot $n of $OUT (timeout ${TIMEOUT}s)"

# Disks, in this order, become vda (root), vdb (data), vdc (seed). panic=-1 with
# -no-reboot turns a kernel panic into QEMU exiting at once instead of a hang.
start=$SECONDS
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg -smp 1 -m 1024 \
  -nic none -nographic -monitor none -serial "file:$B/console.log" \
  -no-reboot \
  -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 panic=-1" \
  -drive "file=$OUT/root.qcow2,if=virtio,format=qcow2" \
  -drive "file=$OUT/data.img,if=virtio,format=raw" \
  -drive "file=$OUT/seed.iso,if=virtio,format=raw,readonly=on" \
  -device virtio-rng-pci \
  </dev/null >"$B/qemu.log" 2>&1
rc=$?
set -e
echo $((SECONDS - start)) >"$B/seconds"
if [[ $rc == 124 || $rc == 137 ]]; then
  log "boot $n timed out after ${TIMEOUT}s"
elif [[ $rc != 0 ]]; then
  log "qemu exited with $rc: $(tail -n 3 "$B/qemu.log")"
fi
log "boot $n took $(cat "$B/seconds")s"

# Read files back from the VM's disk without mounting it: flatten the overlay to a
# temporary raw file and let debugfs copy them out.
mkdir -p "$B/disk"
raw=$B/root.raw
qemu-img convert -O raw "$OUT/root.qcow2" "$raw"
for f in /var/log/cloud-init.log /var/log/cloud-init-output.log \
  "/var/log/ctxgen-probe/report-$n.json" "/var/log/ctxgen-probe/journal-$n.txt" \
  /var/lib/cloud/instance/user-data.txt /etc/fstab; do
  debugfs -R "dump -p $f $B/disk/$(basename "$f")" "$raw" >/dev/null 2>&1 || true
  [[ -s $B/disk/$(basename "$f") ]] || rm -f "$B/disk/$(basename "$f")"
done
rm -f "$raw"

# The data disk: is it formatted, since when, and what is on it.
{
  dumpe2fs -h "$OUT/data.img" 2>&1 |
    grep -E '^(Filesystem volume name|Filesystem UUID|Filesystem created|Mount count|Last mounted on|Last mount time):' ||
    echo "no ext4 filesystem"
  echo "--- files:"
  debugfs -R "ls -l /" "$OUT/data.img" 2>/dev/null || true
  debugfs -R "cat /first-boot.txt" "$OUT/data.img" 2>/dev/null || true
} >"$B/data-disk.txt"

# The report: the last complete BEGIN..END block on the console, else the copy the
# probe left on the disk.
if ! python3 - "$B/console.log" "$B/disk/report-$n.json" "$B/report.json" <<'EOF'
import json, sys
console, disk, out = sys.argv[1:]
text = open(console, "rb").read().decode("utf-8", "replace").replace("\r\n", "\n")
begin, end = "===== CTXGEN-PROBE-BEGIN =====", "===== CTXGEN-PROBE-END ====="
report, source = None, None
i = text.rfind(begin)
j = text.find(end, i) if i >= 0 else -1
if i >= 0 and j > i:
    try:
        report, source = json.loads(text[i + len(begin):j]), "console"
    except ValueError as e:
        print(f"[boot] console copy of the report does not parse ({e}); using the disk copy",
              file=sys.stderr)
if report is None:
    try:
        report, source = json.load(open(disk)), "disk"
    except (OSError, ValueError) as e:
        print(f"[boot] no report: {e}", file=sys.stderr)
        sys.exit(1)
report["_source"] = source
json.dump(report, open(out, "w"), indent=1)
EOF
then
  log "no probe report; last console lines:"
  tail -n 40 "$B/console.log" >&2
  exit 1
fi
log "report: $B/report.json"
