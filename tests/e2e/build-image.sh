#!/usr/bin/env bash
# Build (or find in the cache) the Debian 13 boot image that the e2e tests boot, and
# the Debian packages the network scenario serves from its local apt repository.
#
#   tests/e2e/build-image.sh            # prints the image folder on stdout
#   tests/e2e/build-image.sh --debs     # prints the folder of cached .debs on stdout
#
# The image is made without mounting anything and without root tricks beyond
# debootstrap itself:
#   1. debootstrap a trixie root filesystem with cloud-init, the cloud kernel and the
#      few packages the features under test need (the "base" layer, slow: ~5 min);
#   2. copy it, add the e2e configuration (NoCloud only, no apt sources, the probe
#      unit, fstab), and pack it into an ext4 file with `mkfs.ext4 -d` (the "image"
#      layer, fast);
#   3. take the kernel and initrd out of /boot so QEMU can boot them directly.
# --debs downloads, once, the trixie .debs that installing NET_PACKAGES on the base
# needs (apt-get --download-only in a chroot of the base, nothing installed): the
# network scenario puts them in the apt repository it serves to the VM, which has no
# other way to packages.
#
# All layers are cached under ${CTXGEN_E2E_CACHE:-/var/cache/ctxgen-e2e}, each in a
# folder named after a hash of what it is made from, so editing the probe rebuilds
# only the cheap layer, and editing the package list rebuilds all:
#   base-<hash>/rootfs/          the debootstrapped tree (kept for re-packing)
#   image-<hash>/rootfs.img      ext4, root=/dev/vda
#   image-<hash>/vmlinuz, initrd.img
#   image-<hash>/image-host-keys.txt   fingerprints of the SSH host keys baked into
#                                      the image (a test checks they are replaced)
#   image-<hash>/manifest.txt    package versions in the image
#   debs-<hash>/*.deb            NET_PACKAGES and what they depend on, not in the base
#   debs-<hash>/packages.txt     their names and versions
# A folder is used only once its `.done` file exists; builds happen in a temporary
# sibling folder and are renamed into place, so an interrupted build leaves no half
# image behind. CTXGEN_E2E_REBUILD=1 ignores the cache.
#
# Needs root (debootstrap, chroot) and network access to the Debian archive
# (CTXGEN_E2E_MIRROR). A missing tool is an error that names its package.
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

# Not in the image: downloaded with their dependencies (Depends and Pre-Depends, not
# Recommends) for the network scenario's local apt repository. ansible-core and git
# are what ctxgen's ansible pull installs. Recommends are left out on purpose: with
# them, apt would also pull `ansible` (the collections, hundreds of MB of Python to
# byte-compile under TCG); apt skips a recommended package its sources do not have.
NET_PACKAGES=(ansible-core git)

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=lib.sh
source "$HERE/lib.sh"

export PATH=$PATH:/usr/sbin:/sbin
WHAT=image
case ${1:-} in
  "") ;;
  --debs) WHAT=debs ;;
  *) sed -n '2,5p' "$0" >&2; exit 2 ;;
esac
e2e_need "${E2E_IMAGE_TOOLS[@]}" || die "cannot build the e2e image without these tools"

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
# The .debs: on the base, and on what is downloaded.
DEBS_KEY=$(printf '%s\n' "$BASE_KEY" "${NET_PACKAGES[@]}" no-recommends | hash_of)
# The image layer also depends on this script and on the probe.
IMAGE_KEY=$(
  {
    echo "$BASE_KEY" "$IMAGE_SIZE"
    cat "${BASH_SOURCE[0]}" "$HERE"/probe/*
  } | hash_of
)
BASE=$CACHE/base-$BASE_KEY
DEBS=$CACHE/debs-$DEBS_KEY
IMAGE=$CACHE/image-$IMAGE_KEY

# Print what was asked for, once every layer is there.
done_if_cached() {
  [[ -e $BASE/.done && -e $DEBS/.done && -e $IMAGE/.done ]] || return 0
  if [[ $WHAT == debs ]]; then echo "$DEBS"; else echo "$IMAGE"; fi
  exit 0
}

if [[ ${CTXGEN_E2E_REBUILD:-0} == 1 ]]; then
  # .done first: an interrupted removal must not leave a folder that looks complete.
  rm -f "$BASE/.done" "$DEBS/.done" "$IMAGE/.done"
  rm -rf "$BASE" "$DEBS" "$IMAGE"
fi
done_if_cached
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot) to build the image"
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

# --- debs: what installing NET_PACKAGES on the base downloads -----------------------
# apt-get runs chrooted in the base (trixie's apt decides, against the base's own
# dpkg status), with everything it writes redirected to a scratch folder under the
# base's /tmp, removed afterwards: the base's packages do not change, and nothing is
# mounted (apt-get update and --download-only need no /proc).
if [[ ! -e $DEBS/.done ]]; then
  tmp=$(mktemp -d "$CACHE/.debs-XXXXXX")
  scratch=$(mktemp -d "$BASE/rootfs/tmp/.ctxgen-debs-XXXXXX")
  trap 'discard "$tmp"; rm -rf "$scratch"' EXIT
  in=/tmp/${scratch##*/} # the scratch folder as the chroot sees it
  mkdir -p "$scratch/lists/partial" "$scratch/archives/partial"
  echo "deb $MIRROR $SUITE main" >"$scratch/sources.list"
  log "downloading ${NET_PACKAGES[*]} and their dependencies (for the local apt repository)"
  start=$SECONDS
  # The chroot resolves the mirror's name with this machine's resolver.
  cp -L /etc/resolv.conf "$BASE/rootfs/etc/resolv.conf"
  apt_opts=(-q -o "Dir::Etc::SourceList=$in/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$in/lists" -o "Dir::Cache::archives=$in/archives"
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1)
  if ! chroot "$BASE/rootfs" apt-get "${apt_opts[@]}" update >"$tmp/apt.log" 2>&1 ||
    ! chroot "$BASE/rootfs" apt-get "${apt_opts[@]}" -y --download-only --no-install-recommends \
      install "${NET_PACKAGES[@]}" >>"$tmp/apt.log" 2>&1; then
    log "apt-get in the base chroot failed; last lines of $tmp/apt.log:"
    tail -n 30 "$tmp/apt.log" >&2
    exit 1
  fi
  mv "$scratch"/archives/*.deb "$tmp/"
  rm -rf "$scratch"
  for deb in "$tmp"/*.deb; do
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"
  done >"$tmp/packages.txt"
  for p in "${NET_PACKAGES[@]}"; do
    grep -q "^$p " "$tmp/packages.txt" && continue
    tail -n 30 "$tmp/apt.log" >&2
    die "$p is not among the downloaded .debs (apt-get's last lines above)"
  done
  log "$(wc -l <"$tmp/packages.txt") .debs downloaded in $((SECONDS - start)) s"
  touch "$tmp/.done"
  rm -rf "$DEBS"
  mv "$tmp" "$DEBS"
  trap - EXIT
fi
done_if_cached

# --- image layer: configure and pack -----------------------------------------------
tmp=$(mktemp -d "$CACHE/.image-XXXXXX")
trap 'discard "$tmp"' EXIT
log "configuring a copy of $BASE/rootfs"
cp -a "$BASE/rootfs" "$tmp/rootfs"
R=$tmp/rootfs

# cloud-init: NoCloud only (the seed disk labelled cidata), then None. Without this,
# ds-identify would also probe for network datasources, and time out on them.
# The network, when the VM has one, is cloud-init's fallback configuration (DHCP on
# the first NIC, v4 and v6) rendered for systemd-networkd, as on Debian 13's cloud
# images. (ifupdown, which cloud-init would otherwise pick, has no DHCPv6 client it can
# use here, so its networking.service fails on `inet6 dhcp`.)
cat >"$R/etc/cloud/cloud.cfg.d/90-ctxgen-e2e.cfg" <<'EOF'
# ctxgen e2e image: user-data comes only from a NoCloud seed (label cidata).
datasource_list: [NoCloud, None]
system_info:
  network:
    renderers: [networkd]
EOF
rm -f "$R/etc/systemd/system/multi-user.target.wants/networking.service" \
  "$R/etc/systemd/system/network-online.target.wants/networking.service"
mkdir -p "$R/etc/systemd/system/sockets.target.wants" "$R/etc/systemd/system/network-online.target.wants"
ln -sf /usr/lib/systemd/system/systemd-networkd.service "$R/etc/systemd/system/multi-user.target.wants/"
ln -sf /usr/lib/systemd/system/systemd-networkd.socket "$R/etc/systemd/system/sockets.target.wants/"
ln -sf /usr/lib/systemd/system/systemd-networkd-wait-online.service \
  "$R/etc/systemd/system/network-online.target.wants/"
# Without a NIC (the smoke boots) cloud-init writes no .network file, and waiting for a
# link to come online would only time out (2 min): wait only when there is one.
mkdir -p "$R/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$R/etc/systemd/system/systemd-networkd-wait-online.service.d/ctxgen-e2e.conf" <<'EOF'
# ctxgen e2e image: nothing to wait for when cloud-init configured no link.
[Unit]
ConditionDirectoryNotEmpty=/etc/systemd/network
EOF

# The root filesystem is the whole of /dev/vda (no partition table).
cat >"$R/etc/fstab" <<'EOF'
# ctxgen e2e image
/dev/vda / ext4 rw,errors=remount-ro 0 1
EOF
echo ctxgen-e2e-image >"$R/etc/hostname"
# No apt sources: the VM cannot reach the Debian archive. A spec that installs
# packages brings its own repository (the network scenario serves one from this
# machine), and `apt-get update` then reads only that one.
echo "# ctxgen e2e image: no apt sources (the VM reaches only the tests' own services)" \
  >"$R/etc/apt/sources.list"
rm -f "$R"/etc/apt/sources.list.d/*.list "$R"/etc/apt/sources.list.d/*.sources
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
# use an older probe), older ones go. Base and debs layers are few and kept.
ls -1dt "$CACHE"/image-* | tail -n +4 | xargs -r rm -rf
if [[ $WHAT == debs ]]; then echo "$DEBS"; else echo "$IMAGE"; fi
