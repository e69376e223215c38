#!/usr/bin/env bash
# Build (or find in the cache) the Debian 13 boot image that the e2e tests boot.
#
#   tests/e2e/build-image.sh            # prints the image folder on stdout
#
# The image is made without mounting anything and without root tricks beyond
# debootstrap itself:
#   1. debootstrap a trixie root filesystem with cloud-init, the cloud kernel and the
#      few packages the features under test need (the "base" layer, slow: ~5 min);
#   2. copy it, add the e2e configuration (NoCloud only, the probe unit, fstab),
#      and pack it into an ext4 file with `mkfs.ext4 -d` (the "image" layer, fast);
#   3. take the kernel and initrd out of /boot so QEMU can boot them directly.
#
# Both layers are cached under ${CTXGEN_E2E_CACHE:-/var/cache/ctxgen-e2e}, each in a
# folder named after a hash of what it is made from, so editing the probe rebuilds
# only the cheap layer, and editing the package list rebuilds both:
#   base-<hash>/rootfs/          the debootstrapped tree (kept for re-packing)
#   image-<hash>/rootfs.img      ext4, root=/dev/vda
#   image-<hash>/vmlinuz, initrd.img
#   image-<hash>/image-host-keys.txt   fingerprints of the SSH host keys baked into
#                                      the image (a test checks they are replaced)
#   image-<hash>/manifest.txt    package versions in the image
# A folder is used only once its `.done` file exists; builds happen in a temporary
# sibling folder and are renamed into place, so an interrupted build leaves no half
# image behind. CTXGEN_E2E_REBUILD=1 ignores the cache.
#
# Needs root (debootstrap) and network access to the Debian archive; installs its
# own tools with apt-get when they are missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CTXGEN_E2E_CACHE:-/var/cache/ctxgen-e2e}
MIRROR=${CTXGEN_E2E_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
IMAGE_SIZE=3G   # sparse; big enough for a swap file and some packages

# What goes into the image. debootstrap follows Depends (first alternative) but not
# virtual packages, hence python3-cffi-backend (needed by python3-cryptography, which
# cloud-init's dependencies pull in). Everything here must be installable offline
# later: the VM has no network, so the features under test can only use what is here.
PACKAGES=(
  cloud-init cloud-guest-utils
  linux-image-cloud-amd64 initramfs-tools
  systemd-sysv udev dbus kmod util-linux fdisk procps iproute2 ifupdown dhcpcd-base
  openssh-server sudo nftables e2fsprogs locales
  python3 python3-cffi-backend
)

log() { printf '[build-image] %s\n' "$*" >&2; }

# --- tools on this machine ------------------------------------------------------
need_tools() {
  local cmd pkg
  # command:Debian package, installed one at a time and in this order. On the
  # project's machines qemu-utils (qemu-img) comes from bookworm-backports; bookworm's
  # qemu-system-x86 makes apt replace it, so qemu-img is checked again afterwards and
  # bookworm's qemu-utils put back. --no-install-recommends: the recommends
  # (qemu-block-extra, ...) are not needed and make apt give up on that conflict.
  for pair in debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 \
    qemu-img:qemu-utils genisoimage:genisoimage mkfs.ext4:e2fsprogs \
    debugfs:e2fsprogs ssh-keygen:openssh-client; do
    cmd=${pair%%:*} pkg=${pair#*:}
    PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 && continue
    log "installing $pkg (for $cmd)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >&2
  done
}
# Sourcing this file (boot.sh does) gives need_tools without building anything.
[[ ${BASH_SOURCE[0]} != "$0" ]] && return 0

export PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || { log "must run as root (debootstrap)"; exit 2; }
need_tools

hash_of() { sha256sum | cut -c1-16; }

# Remove a temporary build folder, first unmounting anything debootstrap may have
# left mounted inside it (/proc, /sys of the chroot) if it was interrupted.
discard() {
  findmnt -rn -o TARGET | grep -F "$1/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$1"
}

# The base layer depends only on the suite, the mirror's content (not hashed: a
# rebuild picks up new package versions) and the package list.
BASE_KEY=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" | hash_of)
# The image layer also depends on this script and on the probe.
IMAGE_KEY=$(
  {
    echo "$BASE_KEY" "$IMAGE_SIZE"
    cat "${BASH_SOURCE[0]}" "$HERE"/probe/*
  } | hash_of
)
BASE=$CACHE/base-$BASE_KEY
IMAGE=$CACHE/image-$IMAGE_KEY

if [[ ${CTXGEN_E2E_REBUILD:-0} == 1 ]]; then
  # .done first: an interrupted removal must not leave a folder that looks complete.
  rm -f "$BASE/.done" "$IMAGE/.done"
  rm -rf "$BASE" "$IMAGE"
fi
if [[ -e $IMAGE/.done ]]; then
  echo "$IMAGE"
  exit 0
fi
mkdir -p "$CACHE"
[[ -e $CACHE/CACHEDIR.TAG ]] || echo "Signature: 8a477f597d28d172789f06886806bc55" >"$CACHE/CACHEDIR.TAG"

# --- base layer: debootstrap ------------------------------------------------------
if [[ ! -e $BASE/.done ]]; then
  tmp=$(mktemp -d "$CACHE/.base-XXXXXX")
  trap 'discard "$tmp"' EXIT
  log "debootstrap $SUITE into $tmp (takes a few minutes)"
  start=$SECONDS
  include=$(IFS=,; echo "${PACKAGES[*]}")
  if ! debootstrap --variant=minbase --include="$include" --components=main \
    "$SUITE" "$tmp/rootfs" "$MIRROR" >"$tmp/debootstrap.log" 2>&1; then
    log "debootstrap failed; last lines of $tmp/debootstrap.log:"
    tail -n 30 "$tmp/debootstrap.log" >&2
    exit 1
  fi
  # debootstrap leaves the downloaded .debs behind; they are not part of the image.
  rm -f "$tmp"/rootfs/var/cache/apt/archives/*.deb
  log "debootstrap done in $((SECONDS - start)) s"
  touch "$tmp/.done"
  rm -rf "$BASE"
  mv "$tmp" "$BASE"
  trap - EXIT
fi

# --- image layer: configure and pack -----------------------------------------------
tmp=$(mktemp -d "$CACHE/.image-XXXXXX")
trap 'discard "$tmp"' EXIT
log "configuring a copy of $BASE/rootfs"
cp -a "$BASE/rootfs" "$tmp/rootfs"
R=$tmp/rootfs

# cloud-init: NoCloud only (the seed disk labelled cidata), then None. Without this,
# ds-identify would also probe for network datasources, and time out on them.
cat >"$R/etc/cloud/cloud.cfg.d/90-ctxgen-e2e.cfg" <<'EOF'
# ctxgen e2e image: user-data comes only from a NoCloud seed (label cidata).
datasource_list: [NoCloud, None]
EOF

# The root filesystem is the whole of /dev/vda (no partition table).
cat >"$R/etc/fstab" <<'EOF'
# ctxgen e2e image
/dev/vda / ext4 rw,errors=remount-ro 0 1
EOF
echo ctxgen-e2e-image >"$R/etc/hostname"
# A fresh machine-id per boot of the image, as on a real cloud image.
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"

# The serial console carries the probe's report: no login prompt there to interleave
# with it (nobody logs in; the VM has no network either).
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"

# The cloud kernel has AF_VSOCK but QEMU gives no vsock device: systemd's ssh
# generator then fails (harmlessly) on every daemon-reload and fills the journal's
# warnings. Nothing here uses SSH over vsock.
mkdir -p "$R/etc/systemd/system-generators"
ln -sf /dev/null "$R/etc/systemd/system-generators/systemd-ssh-generator"

# The probe: reports the system state on the console after cloud-init's final stage,
# then powers the VM off.
install -D -m 0755 "$HERE/probe/ctxgen-probe" "$R/usr/local/sbin/ctxgen-probe"
install -D -m 0644 "$HERE/probe/ctxgen-probe.service" "$R/etc/systemd/system/ctxgen-probe.service"
# Enabled as its [Install] section says (see the unit for why not multi-user).
for wants in graphical.target.wants cloud-final.service.wants; do
  mkdir -p "$R/etc/systemd/system/$wants"
  ln -sf /etc/systemd/system/ctxgen-probe.service "$R/etc/systemd/system/$wants/ctxgen-probe.service"
done

# Facts about the image that tests compare the booted VM against.
for k in "$R"/etc/ssh/ssh_host_*_key.pub; do
  ssh-keygen -l -f "$k"
done >"$tmp/image-host-keys.txt"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package} ${Version}\n' >"$tmp/manifest.txt"

# Kernel and initrd for direct boot (-kernel/-initrd): the newest in /boot.
kernel=$(printf '%s\n' "$R"/boot/vmlinuz-* | sort -V | tail -n1)
initrd=$R/boot/initrd.img-${kernel##*/vmlinuz-}
[[ -f $initrd ]] || { log "no initrd for $kernel"; exit 1; }
cp "$kernel" "$tmp/vmlinuz"
cp "$initrd" "$tmp/initrd.img"

log "packing ext4 ($IMAGE_SIZE, sparse)"
# (-q still says "Creating regular file ..." on stdout: keep stdout for the path.)
mkfs.ext4 -q -F -L e2e-root -d "$R" "$tmp/rootfs.img" "$IMAGE_SIZE" |
  { grep -v '^Creating regular file' >&2 || true; }
rm -rf "$R"

trap - EXIT
touch "$tmp/.done"
rm -rf "$IMAGE"
mv "$tmp" "$IMAGE"
log "image ready: $IMAGE"
# Keep the cache bounded: the three newest images stay (other checkouts may still
# use an older probe), older ones go. Base layers are few and kept.
ls -1dt "$CACHE"/image-* | tail -n +4 | xargs -r rm -rf
echo "$IMAGE"
