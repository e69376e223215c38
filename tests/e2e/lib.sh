# Shared by the e2e scripts (sourced, never run): the tools they need, checked up
# front so that a missing one is a clear failure, never a silent skip.
# shellcheck shell=bash

# e2e_need TOOL:PACKAGE...: fail (status 1) naming every missing command and the Debian
# package that has it. Nothing is installed here: .ci/run's e2e step installs the
# packages (E2E_PKGS there), and a developer runs the apt-get line printed below.
e2e_need() {
  local pair cmd pkg missing=() pkgs=()
  for pair in "$@"; do
    cmd=${pair%%:*} pkg=${pair#*:}
    PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 && continue
    missing+=("$cmd")
    [[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  printf 'e2e: missing tool(s): %s\n' "${missing[*]}" >&2
  printf 'e2e: install them with: apt-get install --no-install-recommends %s\n' "${pkgs[*]}" >&2
  return 1
}

# What each script needs, as command:Debian package.
E2E_IMAGE_TOOLS=(debootstrap:debootstrap mkfs.ext4:e2fsprogs ssh-keygen:openssh-client
  chroot:coreutils sha256sum:coreutils dpkg-deb:dpkg)
E2E_BOOT_TOOLS=(qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils debugfs:e2fsprogs
  dumpe2fs:e2fsprogs python3:python3 timeout:coreutils)
E2E_NET_TOOLS=(openssl:openssl gpg:gnupg dpkg-deb:dpkg dpkg-scanpackages:dpkg-dev git:git)

# e2e_accel KERNEL: print the accelerator to boot with, `kvm` or `tcg`, and why on
# stderr. CTXGEN_E2E_ACCEL=kvm|tcg decides without a check. Otherwise KVM is used only
# when a KVM guest really runs: on the project's nested machines /dev/kvm exists but
# QEMU aborts ("failed to set MSR") or the guest stops at once ("KVM internal
# error"). The check boots KERNEL with no
# disk under KVM for at most 30 s and wants the kernel's own panic (it finds no root
# filesystem) on the console; anything else means TCG.
e2e_accel() {
  local kernel=$1 dir pid i verdict=tcg why="no usable /dev/kvm"
  case ${CTXGEN_E2E_ACCEL:-auto} in
    kvm | tcg)
      echo "e2e: accelerator ${CTXGEN_E2E_ACCEL} (CTXGEN_E2E_ACCEL)" >&2
      echo "$CTXGEN_E2E_ACCEL"
      return 0
      ;;
  esac
  if [[ -r /dev/kvm && -w /dev/kvm ]]; then
    dir=$(mktemp -d)
    # In a subshell whose own stderr is discarded: a QEMU that aborts is expected here,
    # and bash's "Aborted" notice about it is noise.
    (qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 256 -nic none -nographic \
      -monitor none -serial "file:$dir/console" -no-reboot -kernel "$kernel" \
      -append "console=ttyS0 panic=-1" -pidfile "$dir/pid" </dev/null >"$dir/qemu.log" 2>&1
      exit $?) 2>/dev/null &
    pid=$!
    why="a KVM guest did not reach its kernel's panic within 30 s"
    for ((i = 0; i < 60; i++)); do
      if grep -q "Kernel panic" "$dir/console" 2>/dev/null; then
        verdict=kvm why="a KVM guest ran its kernel"
        break
      fi
      if grep -q "KVM internal error" "$dir/qemu.log"; then
        why="/dev/kvm exists, but a KVM guest stops with \"KVM internal error\""
        break
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        why="qemu -accel kvm failed: $(grep -v warning "$dir/qemu.log" | head -n1)"
        break
      fi
      sleep 0.5
    done
    [[ ! -s $dir/pid ]] || kill "$(cat "$dir/pid")" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
  fi
  echo "e2e: accelerator $verdict ($why)" >&2
  echo "$verdict"
}

# e2e_accel_args ACCEL: QEMU's options for it. One vCPU either way: under TCG two
# vCPUs once crashed the guest kernel early (it patches its own code at boot).
e2e_accel_args() {
  if [[ $1 == kvm ]]; then
    echo "-accel kvm -cpu host -smp 1"
  else
    echo "-accel tcg -smp 1"
  fi
}
