#!/usr/bin/env bash
# Install the cloud-init "oracles" that ctxgen's tests compare against.
#
#   22.4  Debian 12 (bookworm) package, installed normally (/usr/bin/cloud-init)
#   25.1  Debian 13 (trixie) package, unpacked (not installed) under the cache dir
#   26.2  Debian unstable (sid) package, unpacked (not installed) under the cache dir
#
# The two newer releases are pure Python and run fine on bookworm's python3 with the
# libraries that bookworm's cloud-init package pulls in; tests/oracle/cloud-init-schema
# runs them.  The system apt configuration is never modified: trixie and sid are
# reached through a private sources list, list directory and cache under
# $CTXGEN_ORACLE_DIR/apt/<series>/.
#
# Requirements: Debian 12, root, access to the Debian mirror that the system already
# uses.  Safe to re-run: once everything is in place it only checks markers and exits
# (no network).  Set CTXGEN_ORACLE_REFRESH=1 to re-resolve and re-fetch trixie/sid.
#
# Environment:
#   CTXGEN_ORACLE_DIR              cache folder (default /var/cache/ctxgen-oracles)
#   CTXGEN_ORACLE_REFRESH=1        ignore the markers, fetch trixie/sid again
#   CTXGEN_DEBIAN_MIRROR           override the Debian archive URL
#   CTXGEN_DEBIAN_SECURITY_MIRROR  override the Debian security archive URL
#   CTXGEN_KEEP_CLOUD_INIT_ENABLED=1  do not create /etc/cloud/cloud-init.disabled
set -euo pipefail

ORACLE_DIR=${CTXGEN_ORACLE_DIR:-/var/cache/ctxgen-oracles}
REFRESH=${CTXGEN_ORACLE_REFRESH:-0}
SYS_PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive

# series:expected-upstream-release pairs for the unpacked oracles.
UNPACKED_ORACLES=("trixie:25.1" "sid:26.2")

# Debian 12 packages: cloud-init 22.4 itself (its dependencies are also everything the
# newer releases import for `schema`), PyYAML for the round-trip checker, and a fresh
# archive keyring so that trixie/sid Release files verify.
SYSTEM_PKGS=(cloud-init python3-yaml debian-archive-keyring)

log() { printf '%s\n' "install-oracles: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Run a command with its output captured; show the output only if it fails.
quiet() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" >&2
    log "command failed (exit $rc): $*"
    return "$rc"
  fi
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -r /etc/debian_version ] || die "not a Debian system"
# shellcheck disable=SC1091
case "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" in
  bookworm) ;;
  *) log "warning: expected Debian 12 (bookworm); continuing anyway" ;;
esac

# ---------------------------------------------------------------------------
# 1. cloud-init 22.4 and python3-yaml from the system's own sources.
# ---------------------------------------------------------------------------
pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for p in "${SYSTEM_PKGS[@]}"; do pkg_installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  cloud_init_was_installed=0
  pkg_installed cloud-init && cloud_init_was_installed=1
  log "installing ${missing[*]} (apt-get update + install)"
  quiet apt-get -q update
  quiet apt-get install -y -q --no-install-recommends "${SYSTEM_PKGS[@]}"
  # Installing cloud-init enables its boot-time units.  We only want the CLI, so on a
  # machine that did not already run cloud-init, keep it from acting on the next boot.
  if [ "$cloud_init_was_installed" = 0 ] && [ "${CTXGEN_KEEP_CLOUD_INIT_ENABLED:-0}" != 1 ]; then
    mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
    log "created /etc/cloud/cloud-init.disabled (cloud-init will not run at boot)"
  fi
fi

# The schema command silently skips validation when jsonschema is missing, so make
# sure the interpreter really has every module the oracles need.
check_imports() { # $1 = extra PYTHONPATH or empty
  env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$1" \
    "$SYS_PY" -c '
import jsonschema, yaml, jinja2, configobj, jsonpatch, oauthlib, requests
from cloudinit import version
from cloudinit.config import schema
schema.get_jsonschema_validator()
schema.get_schema()
print(version.version_string())'
}

# ---------------------------------------------------------------------------
# 2. trixie / sid packages, unpacked with dpkg -x.
# ---------------------------------------------------------------------------

# Use the same host as the system's Debian sources (the package proxy may serve
# nothing else).  `apt-get indextargets` reports the URIs apt really uses, whatever
# the format of the sources files.
system_repo_uri() { # $1 = codename (bookworm, bookworm-security)
  # shellcheck disable=SC2016 # $(...) are apt's format fields, not shell
  apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(SUITE)' 'Created-By: Packages' 2>/dev/null |
    awk -v c="$1" '$2 == c || $3 == c { sub(/\/+$/, "", $1); print $1; exit }'
}

# Looked up only when something has to be fetched (indextargets takes ~0.5 s).
MIRROR='' SEC_MIRROR=''
resolve_mirrors() {
  [ -z "$MIRROR" ] || return 0
  MIRROR=${CTXGEN_DEBIAN_MIRROR:-$(system_repo_uri bookworm)}
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  SEC_MIRROR=${CTXGEN_DEBIAN_SECURITY_MIRROR:-$(system_repo_uri bookworm-security)}
  SEC_MIRROR=${SEC_MIRROR:-${MIRROR%/debian}/debian-security}
}

# Write the private apt configuration of one series and print its path.
apt_conf_for() { # $1 = series
  local series=$1 base="$ORACLE_DIR/apt/$1"
  mkdir -p "$base/lists/partial" "$base/cache/archives/partial" "$base/sources.list.d"
  {
    echo "Types: deb"
    echo "URIs: $MIRROR"
    if [ "$series" = sid ]; then
      echo "Suites: sid"
    else
      echo "Suites: $series $series-updates"
    fi
    echo "Components: main"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    if [ "$series" != sid ]; then
      echo
      echo "Types: deb"
      echo "URIs: $SEC_MIRROR"
      echo "Suites: $series-security"
      echo "Components: main"
      echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    fi
  } >"$base/debian.sources"
  # Everything apt would otherwise read from or write to the system locations is
  # redirected here.  The system's apt.conf.d is still read (proxy settings, etc.),
  # but its update hooks (appstream, docker-clean) and extra index files are dropped.
  cat >"$base/apt.conf" <<EOF
Dir::Etc::SourceList "$base/debian.sources";
Dir::Etc::SourceParts "$base/sources.list.d";
Dir::State::Lists "$base/lists";
Dir::Cache "$base/cache";
Dir::Cache::archives "$base/cache/archives";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
  printf '%s\n' "$base/apt.conf"
}

# Read a key from an oracle's marker file.
marker_get() { # $1 = marker file, $2 = key
  sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1
}

failed=0
install_unpacked() { # $1 = series, $2 = expected upstream release (e.g. 26.2)
  local series=$1 want=$2
  local dest="$ORACLE_DIR/cloud-init-$series" marker conf ver cand deb tmp dl
  marker="$dest/.ctxgen-oracle"

  if [ "$REFRESH" != 1 ] && [ "$(marker_get "$marker" release)" = "$want" ] &&
    [ -x "$dest/usr/bin/cloud-init" ]; then
    return 0 # already unpacked; the marker is written last, so it is complete
  fi

  resolve_mirrors
  conf=$(apt_conf_for "$series")
  log "resolving cloud-init in $series from $MIRROR"
  quiet apt-get -q -c "$conf" update

  # apt's candidate (highest of $series, -updates, -security).  If that is not the
  # release we test against, fall back to any other version the suites still carry.
  cand=$(apt-cache -c "$conf" policy cloud-init | awk '$1 == "Candidate:" { print $2 }')
  ver=$cand
  case "$ver" in "$want"|"$want"[.-]*) ;; *)
    ver=$(apt-cache -c "$conf" madison cloud-init | awk -F' [|] ' '{ gsub(/ /, "", $2); print $2 }' |
      grep -E "^${want//./\\.}([.-]|$)" | head -n1 || true)
    ;;
  esac
  if [ -z "$ver" ]; then
    log "ERROR: $series offers cloud-init ${cand:-<none>}, not $want; oracle $want NOT installed"
    failed=1
    return 0
  fi

  dl=$(mktemp -d "$ORACLE_DIR/.download.XXXXXX")
  chown _apt "$dl" 2>/dev/null || true # apt downloads as _apt when it can
  (cd "$dl" && quiet apt-get -q -c "$conf" download "cloud-init=$ver")
  deb=$(ls "$dl"/cloud-init_*.deb)
  [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ] || die "downloaded $deb is not version $ver"

  # Unpack next to the destination, byte-compile (so unprivileged runs start fast),
  # check that bookworm's python can run it, then swap it into place.
  tmp="$dest.new"
  rm -rf "$tmp"
  dpkg -x "$deb" "$tmp"
  quiet "$SYS_PY" -m compileall -q "$tmp/usr/lib/python3/dist-packages"
  local upstream
  upstream=$(check_imports "$tmp/usr/lib/python3/dist-packages") ||
    die "cloud-init $ver does not import on $SYS_PY (see above)"
  mkdir -p "$ORACLE_DIR/debs"
  mv -f "$deb" "$ORACLE_DIR/debs/"
  rm -rf "$dl" "$dest"
  mv "$tmp" "$dest"
  # The package indexes (~30 MB per series) are only needed to resolve; drop them.
  rm -rf "$ORACLE_DIR/apt/$series/lists" "$ORACLE_DIR/apt/$series/cache"
  {
    echo "series=$series"
    echo "release=$want"
    echo "version=$ver"
    echo "upstream=$upstream"
    echo "deb=$ORACLE_DIR/debs/$(basename "$deb")"
    echo "sha256=$(sha256sum "$ORACLE_DIR/debs/$(basename "$deb")" | cut -d' ' -f1)"
    echo "mirror=$MIRROR"
  } >"$marker"
}

mkdir -p "$ORACLE_DIR"
for pair in "${UNPACKED_ORACLES[@]}"; do
  install_unpacked "${pair%%:*}" "${pair#*:}"
done

# ---------------------------------------------------------------------------
# 3. Report.
# ---------------------------------------------------------------------------
sys_ver=$(dpkg-query -W -f='${Version}' cloud-init)
case "$sys_ver" in 22.4*) ;; *) log "warning: system cloud-init is $sys_ver, not 22.4"; failed=1 ;; esac
echo "oracle cloud-init $sys_ver: /usr/bin/cloud-init"
for pair in "${UNPACKED_ORACLES[@]}"; do
  series=${pair%%:*}
  m="$ORACLE_DIR/cloud-init-$series/.ctxgen-oracle"
  if [ -f "$m" ]; then
    echo "oracle cloud-init $(marker_get "$m" version) ($series): $ORACLE_DIR/cloud-init-$series/usr/bin/cloud-init"
  else
    echo "oracle cloud-init ${pair#*:} ($series): MISSING"
  fi
done
echo "oracle PyYAML $("$SYS_PY" -c 'import yaml; print(yaml.__version__)'): $SYS_PY"
exit "$failed"
