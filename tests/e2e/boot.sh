#!/usr/bin/env bash
# Boot the e2e image once with a NoCloud seed made by `ctxgen seed`, and collect what
# the probe saw.
#
#   tests/e2e/boot.sh [--probe FILE] [--fwd PORT=HOSTPORT]... SEED.iso OUT_DIR
#   tests/e2e/boot.sh [--fwd PORT=HOSTPORT]... --again OUT_DIR
#
# First boot: OUT_DIR (made empty) gets
#   seed.iso             the seed, byte for byte as given (`ctxgen seed SPEC --out
#                        SEED.iso`: user-data, and meta-data with the instance-id and
#                        local-hostname ctxgen chose)
#   probe.json           when --probe is given: what the probe should inspect (users,
#                        units, files, markers, packages, commands; see
#                        probe/ctxgen-probe). It reaches the VM through QEMU's
#                        firmware configuration device (fw_cfg, opt/ctxgen/probe.json),
#                        never through the seed: the user-data under test is not changed.
#   root.qcow2           copy-on-write overlay over the cached image (vda)
#   data.img             blank 1 GiB raw disk for volume tests (vdb)
#   image                the image folder used (build-image.sh)
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
# `--again` keeps the seed (same instance-id: cloud-init sees the same instance), the
# probe.json and the disks, so it is a reboot: per-boot steps run again, per-instance
# ones do not.
#
# Network: none at all (-nic none) unless --fwd is given. Each `--fwd PORT=HOSTPORT`
# lets the VM reach this machine's 127.0.0.1:HOSTPORT as 10.0.2.100:PORT, through
# QEMU's user-mode network with restrict=on: the VM gets an address by DHCP and can
# reach those forwarded ports and nothing else (no other host, not this machine's other
# ports, no DNS). Each connection is relayed by relay.py, which only ever connects to
# 127.0.0.1.
#
# The VM runs under KVM only when a KVM guest really works here (lib.sh e2e_accel; on
# the project's nested machines /dev/kvm exists but fails), else under TCG; one vCPU.
# CTXGEN_E2E_ACCEL=kvm|tcg skips the check. CTXGEN_E2E_TIMEOUT (seconds, default 900)
# bounds each boot; CTXGEN_E2E_IMAGE (default: whatever build-image.sh prints) is the
# image folder.
# Exit status: 0 when a report was collected, 1 otherwise, 2 usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${CTXGEN_E2E_TIMEOUT:-900}
GUEST_HOST=10.0.2.100 # the address the VM reaches this machine's services by
export PATH=$PATH:/usr/sbin:/sbin

# shellcheck source=lib.sh
source "$HERE/lib.sh"

log() { printf '[boot] %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}
usage() {
  sed -n '5,6p' "$0" >&2
  exit 2
}
e2e_need "${E2E_BOOT_TOOLS[@]}" || die "cannot boot the e2e image without these tools"

AGAIN=0 PROBE= FWDS=()
while (($#)); do
  case $1 in
    --again) AGAIN=1 ;;
    --probe) PROBE=${2:?--probe needs a file}; shift ;;
    --fwd)
      [[ ${2:-} =~ ^[0-9]+=[0-9]+$ ]] || die "--fwd takes PORT=HOSTPORT, not '${2:-}'"
      FWDS+=("$2")
      shift
      ;;
    -*) usage ;;
    *) break ;;
  esac
  shift
done

if ((AGAIN)); then
  [[ $# == 1 && -z $PROBE ]] || usage
  OUT=$(realpath "$1")
  [[ -f $OUT/root.qcow2 && -f $OUT/seed.iso ]] || die "$OUT has no previous boot to repeat"
  IMAGE=$(cat "$OUT/image")
else
  [[ $# == 2 ]] || usage
  SEED=$1
  OUT=$2
  [[ -f $SEED ]] || die "no such seed: $SEED"
  if [[ -n $PROBE ]]; then
    python3 -m json.tool "$PROBE" >/dev/null || die "$PROBE is not JSON"
  fi
  IMAGE=${CTXGEN_E2E_IMAGE:-$("$HERE/build-image.sh")}
  [[ -f $IMAGE/rootfs.img && -f $IMAGE/vmlinuz ]] || die "no e2e image in '$IMAGE'"

  rm -rf "$OUT"
  mkdir -p "$OUT"
  OUT=$(realpath "$OUT")
  echo "$IMAGE" >"$OUT/image"
  cp "$SEED" "$OUT/seed.iso"
  [[ -z $PROBE ]] || cp "$PROBE" "$OUT/probe.json"

  # The image is never written: each test run writes to its own overlay.
  qemu-img create -q -f qcow2 -F raw -b "$IMAGE/rootfs.img" "$OUT/root.qcow2"
  qemu-img create -q -f raw "$OUT/data.img" 1G
fi

# Boot number: one more than the boots already in OUT.
n=1
while [[ -e $OUT/boot-$n ]]; do n=$((n + 1)); done
B=$OUT/boot-$n
mkdir -p "$B"

# The network: none, or user-mode with only the forwarded ports.
net=(-nic none)
if ((${#FWDS[@]})); then
  spec=user,id=n0,restrict=on
  for f in "${FWDS[@]}"; do
    # QEMU runs the command for each connection the VM opens to GUEST_HOST:PORT, with
    # the connection on its stdin and stdout. (A comma would end the option, and QEMU
    # splits the command at spaces: the paths must have neither.)
    [[ $HERE != *[,\ ]* && $B != *[,\ ]* ]] || die "paths with a comma or space cannot go into -netdev"
    spec+=",guestfwd=tcp:$GUEST_HOST:${f%%=*}-cmd:python3 $HERE/relay.py ${f#*=} $B/relay.log"
  done
  net=(-netdev "$spec" -device virtio-net-pci,netdev=n0)
  log "network: ${FWDS[*]} (guest port=127.0.0.1 port), nothing else"
fi
fwcfg=()
[[ ! -f $OUT/probe.json ]] || fwcfg=(-fw_cfg "name=opt/ctxgen/probe.json,file=$OUT/probe.json")
ACCEL=$(e2e_accel "$IMAGE/vmlinuz")
read -r -a accel <<<"$(e2e_accel_args "$ACCEL")"
echo "$ACCEL" >"$B/accel"

log "boot $n of $OUT (timeout ${TIMEOUT}s)"
# Disks, in this order, become vda (root), vdb (data), vdc (seed). panic=-1 with
# -no-reboot turns a kernel panic into QEMU exiting at once instead of a hang.
start=$SECONDS
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
  "${accel[@]}" -m 1024 \
  "${net[@]}" -nographic -monitor none -serial "file:$B/console.log" \
  -no-reboot \
  -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 panic=-1" \
  -drive "file=$OUT/root.qcow2,if=virtio,format=qcow2" \
  -drive "file=$OUT/data.img,if=virtio,format=raw" \
  -drive "file=$OUT/seed.iso,if=virtio,format=raw,readonly=on" \
  "${fwcfg[@]}" \
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
  /var/lib/cloud/instance/user-data.txt /etc/fstab /var/log/apt/term.log; do
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
if ! python3 - "$B/console.log" "$B/disk/report-$n.json" "$B/report.json" <<'EOF'; then
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
  log "no probe report; last console lines:"
  tail -n 40 "$B/console.log" >&2
  exit 1
fi
log "report: $B/report.json"
