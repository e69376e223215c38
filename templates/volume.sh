# ctxgen volume step: runs early on every boot (cloud-init bootcmd) as
#   sh -eu -c "<this script>" ctxgen-volume DEVICE FSTYPE FORMAT LABEL SOURCE MOUNTPOINT OPTIONS
# Every value arrives as an argument, never as script text.
#   FORMAT  never | if_empty: make a filesystem only on a device with no signature at all
#           (no filesystem, no partition table, no RAID or LVM member): never reformat.
#   SOURCE  what fstab mounts: LABEL=..., UUID=... or the device path.
dev=$1 fstype=$2 format=$3 label=$4 source=$5 mnt=$6 opts=$7

# Block storage may appear a little after boot: wait up to 60 seconds for it.
i=0
while [ ! -b "$dev" ]; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then
    echo "ctxgen: volume $dev did not appear; $mnt is not mounted" >&2
    exit 1
  fi
  sleep 1
done

if [ "$format" = if_empty ]; then
  rc=0
  blkid -p "$dev" >/dev/null 2>&1 || rc=$?
  if [ "$rc" -eq 2 ]; then
    echo "ctxgen: $dev is empty: making a $fstype filesystem"
    if [ -n "$label" ]; then
      "mkfs.$fstype" -L "$label" "$dev"
    else
      "mkfs.$fstype" "$dev"
    fi
    udevadm settle 2>/dev/null || true
  elif [ "$rc" -ne 0 ]; then
    echo "ctxgen: cannot probe $dev (blkid exit $rc); not formatting it" >&2
    exit 1
  fi
fi

mkdir -p "$mnt"
if ! awk -v m="$mnt" '$1 !~ /^#/ && $2 == m { found = 1 } END { exit !found }' /etc/fstab; then
  printf '%s %s %s %s 0 2\n' "$source" "$mnt" "$fstype" "$opts" >>/etc/fstab
  systemctl daemon-reload 2>/dev/null || true
fi
if ! mountpoint -q "$mnt"; then
  mount "$mnt"
fi
