#!/bin/sh
# Salt minion bootstrap, written by ctxgen (template `salt-minion.sh`).
# Installs salt-minion (from the image or a configured Salt repository: current Debian
# and Ubuntu releases do not carry it), keeps its key folder root-only, and starts the
# minion with the settings in /etc/salt/minion.d/ctxgen.conf. Without pre-seeded keys
# the minion makes its own, and the master must accept it (`salt-key -a`).
set -eu
if ! command -v salt-minion >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y salt-minion
  else
    dnf install -y salt-minion
  fi
fi
install -d -m 0700 /etc/salt/pki/minion
systemctl enable salt-minion.service
# Restart: a package that started the minion before our settings were read.
systemctl restart salt-minion.service
