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
