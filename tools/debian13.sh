#!/usr/bin/env bash
# A cached Debian 13 (trixie) root filesystem for the test leg that needs a newer userland than the host:
# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (GCC 13+ libstdc++), and the leg also wants Debian 13's
# libtorch 2.6 / python3-torch 2.6. The .NET SDK is NOT installed in the root: the host's SDK and NuGet folders
# are bind-mounted, so host and root share one SDK and one package cache.
#
#   bash tools/debian13.sh ensure            build the root if missing (else reuse it); last stdout line = its path
#   bash tools/debian13.sh run [--] CMD...   ensure, then run CMD in it (chroot); exit code = CMD's
#   bash tools/debian13.sh status            one line: root present?, path, key, can this host build one?
#   bash tools/debian13.sh clean             remove every cached root (and the download caches)
#
# If the host's own libstdc++ already provides GLIBCXX_3.4.32 (Debian 13+, Ubuntu 24.04+), `run` runs CMD natively
# and `ensure` prints "/": the leg needs no chroot there.
#
# `run` details: the repository is bind-mounted at the same absolute path as on the host (paths baked into build
# outputs keep working), and so are /tmp, the .NET SDK (read-only), the NuGet package folder and NuGet config. The
# working directory is the caller's when it is inside the repository (or /tmp), else the repository root. Inside,
# MLLRSCHED_DEBIAN13_INSIDE=1 is set so that scripts can tell they are already in the root.
#
# Cache: ${MLLRSCHED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mllrsched}/debian13-<key>, where <key> hashes the
# package list, SCRIPT_VERSION and the mirror; a root with another key is stale and removed after a new build.
#
# Settings (environment):
#   MLLRSCHED_CACHE_DIR                 where roots and download caches live (must be outside the repository)
#   MLLRSCHED_DEBIAN13_FORCE_CHROOT=1   use the chroot even when the host could run natively (to test the script)
#   MLLRSCHED_DEBIAN13_UNSHARE=0        do not use a private mount namespace (mounts then live in the host's
#                                       namespace, undone by traps only; for hosts where unshare -m is refused)
#   MLLRSCHED_DEBIAN13_ENV="A B"        further variable names to pass into the root (all MLLRSCHED_* pass anyway)
#   MLLRSCHED_DEBIAN13=0                not read here: the caller's switch to skip the leg altogether
# Exit codes: the command's for `run`; 3 when this host cannot provide the root (not root, no debootstrap, no
# mount permission) before any command ran; 2 for usage errors; 1 for other failures (a build log is kept).
set -euo pipefail

# Bump when the way the root is built changes, so cached roots get rebuilt.
readonly SCRIPT_VERSION=1
readonly SUITE=trixie
# Alternatives ("a|b"): the first one the suite has is installed, so a renamed library does not break the build.
readonly PACKAGES=(
  libtorch-dev python3-torch libopenblas0-pthread   # libtorch 2.6 + PyTorch 2.6 on it, fast BLAS
  cmake g++ make                                    # the native shim
  ca-certificates procps                            # TLS for NuGet/apt; ps/pkill for tests that look at processes
  "libicu76|libicu77|libicu78|libicu74|libicu72"    # .NET globalization (dotnet refuses to start without ICU)
  "libssl3t64|libssl3" zlib1g                       # .NET crypto/TLS and compression
  fonts-dejavu-core fontconfig                      # a font for the charts' text (SkiaSharp finds it through fontconfig)
)
# Installed when the suite has them, skipped with a warning line otherwise.
readonly OPTIONAL_PACKAGES=(dataset-fashion-mnist)
readonly FALLBACK_MIRROR=http://deb.debian.org/debian
readonly STAMP_NAME=.mllrsched-debian13   # written last: a root without it is an interrupted build
readonly NEEDED_GLIBCXX=GLIBCXX_3.4.32

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SELF")/.." && pwd -P)"
CACHE="${MLLRSCHED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mllrsched}"

log() { echo "[debian13] $*" >&2; }
die() { echo "[debian13] error: $*" >&2; exit 1; }
# The host cannot provide the root at all: exit 3 and say how to turn the leg off.
cannot() { echo "[debian13] error: $*; to skip the Debian 13 leg set MLLRSCHED_DEBIAN13=0" >&2; exit 3; }

# ---------------------------------------------------------------------------------------------------------------
# Host facts

# The host's libstdc++ (the one the dynamic loader would pick), or nothing.
host_libstdcxx() {
  local lib
  lib=$(ldconfig -p 2>/dev/null | awk '$1 == "libstdc++.so.6" { print $NF; exit }') || true
  if [[ -z $lib ]]; then
    for lib in /usr/lib/*-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
      [[ -e $lib ]] && break
    done
  fi
  [[ -e $lib ]] && readlink -f "$lib"
}

# True when the host can run the leg natively. Testing the library itself (rather than /etc/os-release) also
# covers derivatives and hosts with a newer GCC runtime installed.
host_is_new_enough() {
  [[ ${MLLRSCHED_DEBIAN13_FORCE_CHROOT:-0} == 1 ]] && return 1
  local lib
  lib=$(host_libstdcxx) || return 1
  grep -aq "$NEEDED_GLIBCXX" "$lib"
}

# apt-config with nothing but apt's built-in defaults (no /etc/apt/apt.conf{,.d}): the baseline for telling which
# Acquire settings the host's administrator added.
apt_config_defaults() {
  local tmp rc=0
  tmp=$(mktemp -d)
  printf 'Dir::Etc::Parts "%s";\nDir::Etc::Main "/dev/null";\n' "$tmp" >"$tmp/apt.conf"
  APT_CONFIG="$tmp/apt.conf" apt-config dump 2>/dev/null || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

# The host's own Acquire:: settings (proxies, Check-Valid-Until, CA files, retries...) in apt.conf syntax: everything
# `apt-config dump` shows that the defaults do not, minus what belongs to packages installed on the host
# (IndexTargets, Changelogs, cdrom) and empty tree nodes.
host_acquire_settings() {
  command -v apt-config >/dev/null || return 0
  local defaults
  defaults=$(apt_config_defaults | grep '^Acquire::') || true
  apt-config dump 2>/dev/null | grep '^Acquire::' \
    | grep -Ev '^Acquire::(IndexTargets|Changelogs|cdrom)(::| )' | grep -v ' "";$' \
    | { if [[ -n $defaults ]]; then grep -vxF -f <(printf '%s\n' "$defaults"); else cat; fi; } || true
}

# One value of the host's apt configuration (empty when unset).
host_apt_value() {
  command -v apt-config >/dev/null || return 0
  local v=""
  eval "$(apt-config shell v "$1" 2>/dev/null)" || true
  printf '%s' "$v"
}

# Lists "TYPE URI SUITE" for every enabled entry of the host's apt sources, in apt's reading order: one-line
# sources.list(.d/*.list) and deb822 *.sources.
host_apt_entries() {
  local sl sp f
  sl=$(host_apt_value Dir::Etc::SourceList/f); [[ -n $sl ]] || sl=/etc/apt/sources.list
  sp=$(host_apt_value Dir::Etc::SourceParts/d); [[ -n $sp ]] || sp=/etc/apt/sources.list.d/
  for f in "$sl" "$sp"/*; do
    [[ -f $f && ( $f == "$sl" || $f == *.list || $f == *.sources ) ]] || continue
    if [[ $f == *.sources ]]; then
      # deb822: paragraphs of "Field: value" with indented continuation lines; Enabled: no switches one off.
      awk '
        function flush(   n, i, j, t, u, s, ty, ur, su) {
          if (en != "no" && types != "" && uris != "" && suites != "") {
            n = split(types, ty, /[ \t]+/); split(uris, ur, /[ \t]+/); split(suites, su, /[ \t]+/)
            for (i = 1; i <= n; i++) for (u in ur) for (s in su)
              if (ty[i] != "" && ur[u] != "" && su[s] != "") print ty[i], ur[u], su[s]
          }
          types = uris = suites = last = ""; en = "yes"
        }
        BEGIN { en = "yes" }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ { if (last == "types") types = types " " $0; else if (last == "uris") uris = uris " " $0
                   else if (last == "suites") suites = suites " " $0; next }
        {
          key = tolower($0); sub(/:.*/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); last = key
          if (key == "types") types = val; else if (key == "uris") uris = val
          else if (key == "suites") suites = val; else if (key == "enabled") en = tolower(val)
        }
        END { flush() }' "$f"
    else
      # One-line style: "deb [opts] URI SUITE COMPONENTS..."; options may contain spaces inside the brackets.
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 ~ /^deb(-src)?$/ && NF >= 3 { print $1, $2, $3 }'
    fi
  done
}

# "MAIN SECURITY" mirrors the host's apt uses for Debian: the first http(s) URI serving a Debian release suite
# (not -security) and the first serving a -security suite. The security field is "-" when none was found.
host_debian_mirrors() {
  host_apt_entries 2>/dev/null | awk -v fallback="$FALLBACK_MIRROR" '
    BEGIN {
      n = split("buzz rex bo hamm slink potato woody sarge etch lenny squeeze wheezy jessie stretch buster " \
                "bullseye bookworm trixie forky duke sid stable testing unstable oldstable oldoldstable", c, " ")
      for (i = 1; i <= n; i++) debian[c[i]] = 1
    }
    $1 != "deb" || $2 !~ /^https?:\/\// { next }
    {
      uri = $2; sub(/\/+$/, "", uri); suite = $3; base = suite
      sub(/(-updates|-backports|-backports-sloppy|-proposed-updates|-security|\/updates)$/, "", base)
      if (!(base in debian)) next
      if (suite ~ /(-security|\/updates)$/ || uri ~ /debian-security$/) { if (sec == "") sec = uri }
      else if (main == "") main = uri
    }
    END { print (main != "" ? main : fallback), (sec != "" ? sec : "-") }'
}

# True when URL can be fetched with the host's apt settings (proxy, CA) — used to probe optional suites.
url_exists() {
  local tmp rc=1
  tmp=$(mktemp -d)
  if [[ -x /usr/lib/apt/apt-helper ]]; then
    /usr/lib/apt/apt-helper download-file "$1" "$tmp/f" >/dev/null 2>&1 && rc=0
  elif command -v curl >/dev/null; then
    curl -fsSL -o "$tmp/f" "$1" 2>/dev/null && rc=0
  elif command -v wget >/dev/null; then
    wget -q -O "$tmp/f" "$1" 2>/dev/null && rc=0
  fi
  rm -rf "$tmp"
  return "$rc"
}

# ---------------------------------------------------------------------------------------------------------------
# Identity of the root

read -r MIRROR HOST_SECURITY < <(host_debian_mirrors) || true
[[ -n ${MIRROR:-} ]] || MIRROR=$FALLBACK_MIRROR
KEY=$(printf '%s\n' "v$SCRIPT_VERSION" "$SUITE" "$MIRROR" "${PACKAGES[@]}" "${OPTIONAL_PACKAGES[@]}" \
  | sha256sum | cut -c1-12)
ROOT="$CACHE/debian13-$KEY"
BUILD_LOCK="$CACHE/.debian13-build.lock"

root_complete() { [[ -f $ROOT/$STAMP_NAME ]] && grep -qx "key=$KEY" "$ROOT/$STAMP_NAME"; }

# ---------------------------------------------------------------------------------------------------------------
# Mounts. Every mount is recorded and undone in reverse order by the EXIT/INT/TERM/HUP trap; inside a private
# mount namespace (the normal case) nothing can leak to the host even if this script is SIGKILLed.

MOUNTS=()
IN_PRIVATE_NS=0
[[ ${__MLLRSCHED_DEBIAN13_NS:-} == "$$" ]] && IN_PRIVATE_NS=1

mnt() {  # mnt TARGET MOUNT-ARGS...
  local target=$1; shift
  mount "$@" "$target"
  MOUNTS+=("$target")
}

unmount_all() {
  local i t
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    t=${MOUNTS[i]}
    umount -R "$t" 2>/dev/null || umount -R -l "$t" 2>/dev/null || umount -l "$t" 2>/dev/null \
      || log "warning: could not unmount $t"
  done
  MOUNTS=()
}

# Mount points at or below DIR in this namespace.
mounts_below() {
  awk -v d="$1" '{ p = $2; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' /proc/self/mounts
}

# Bind SRC at the same path inside ROOT (read-only with "ro").
bind_same_path() {
  local root=$1 src=$2 mode=${3:-rw}
  [[ -e $src ]] || return 0
  mkdir -p "$root$src"
  mnt "$root$src" --bind "$src"
  [[ $mode == ro ]] && mount -o remount,bind,ro "$root$src"
  return 0
}

# /proc, /sys, /dev (with pts, shm, mqueue) and a resolv.conf: what apt, dpkg and dotnet need inside.
mount_system() {
  local root=$1
  mnt "$root/proc" -t proc proc
  mnt "$root/sys" --rbind /sys
  mnt "$root/dev" --rbind /dev
  # Slave: unmounting our recursive copies must never propagate back to the host's /dev and /sys.
  mount --make-rslave "$root/sys"
  mount --make-rslave "$root/dev"
  copy_if_changed /etc/resolv.conf "$root/etc/resolv.conf"
  copy_if_changed /etc/hosts "$root/etc/hosts"
}

on_exit() {
  local rc=$?
  unmount_all
  exit "$rc"
}
on_signal() {
  log "interrupted ($1): undoing mounts"
  unmount_all
  trap - "$1" EXIT
  kill -s "$1" "$$"
}
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# ---------------------------------------------------------------------------------------------------------------
# Small helpers

copy_if_changed() {  # SRC DEST: atomic copy (following links) unless identical
  [[ -r $1 ]] || return 0
  cmp -s "$1" "$2" 2>/dev/null && return 0
  mkdir -p "$(dirname "$2")"
  rm -f "$2.mllrsched-new"   # a symlink here would make cp write through it
  cp -L "$1" "$2.mllrsched-new" && mv -f "$2.mllrsched-new" "$2"
}

write_if_changed() {  # DEST: stdin, atomically, unless identical
  local tmp="$1.mllrsched-new"
  cat >"$tmp"
  if cmp -s "$tmp" "$1" 2>/dev/null; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

# Remove a directory tree that may once have had mounts in it: detach them first and refuse while any is left,
# because rm -rf through a forgotten bind mount would delete the repository or the NuGet cache.
safe_rmtree() {
  local d=$1 m left
  [[ -e $d ]] || return 0
  while IFS= read -r m; do umount -R -l "$m" 2>/dev/null || true; done < <(mounts_below "$d" | sort -r)
  left=$(mounts_below "$d")
  if [[ -n $left ]]; then
    log "warning: not removing $d: still mounted: $(echo "$left" | tr '\n' ' ')"
    return 1
  fi
  rm -rf --one-file-system "$d"
}

need_root() {
  [[ $(id -u) -eq 0 ]] \
    || cannot "tools/debian13.sh needs root (debootstrap, chroot and bind mounts); run it as root or with sudo"
}

# The proxy the host's apt uses, for tools that only read the environment (debootstrap's wget).
export_apt_proxies() {
  local scheme v
  for scheme in http https; do
    v=$(host_apt_value "Acquire::$scheme::Proxy")
    case ${v,,} in ''|direct|false) continue ;; esac
    [[ -n $(printenv "${scheme}_proxy" || true) ]] || export "${scheme}_proxy=$v"
  done
}

# Environment for processes in the root: a clean one plus what the host needs for TLS, proxies, NuGet and .NET.
# Anything else (e.g. LD_LIBRARY_PATH pointing at host libraries) would be wrong inside.
root_env() {
  local -n out=$1
  local name lang=${LANG:-C.UTF-8}
  # Locales other than C are not installed in the root.
  case $lang in C|POSIX|C.UTF-8|C.utf8) ;; *) lang=C.UTF-8 ;; esac
  out=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$HOME" "USER=${USER:-root}" "LOGNAME=${LOGNAME:-root}" "LANG=$lang" "TERM=${TERM:-dumb}"
  )
  local extra=" ${MLLRSCHED_DEBIAN13_ENV:-} "
  while IFS= read -r name; do
    case $name in
      __MLLRSCHED_*|PATH|HOME|LANG|TERM|USER|LOGNAME|LD_LIBRARY_PATH|LD_PRELOAD) continue ;;
      SSL_CERT_FILE|SSL_CERT_DIR|*CA_BUNDLE*|*CA_CERTS*|*CAINFO*|*_CERT|*_CERT_FILE) ;;   # TLS trust
      http_proxy|https_proxy|ftp_proxy|all_proxy|no_proxy) ;;
      HTTP_PROXY|HTTPS_PROXY|FTP_PROXY|ALL_PROXY|NO_PROXY) ;;
      NUGET_*|DOTNET_*|MSBUILD*|UseSharedCompilation|MLLRSCHED_*|TZ|DEBIAN_FRONTEND|CI|OMP_NUM_THREADS|OPENBLAS_*|ATEN_CPU_CAPABILITY) ;;
      *) [[ $extra == *" $name "* ]] || continue ;;
    esac
    out+=("$name=${!name}")
  done < <(compgen -e)
  # The root shares /tmp with the host, where MSBuild nodes and the compiler server publish their sockets; a
  # process in the root must neither reuse a host node nor leave its own for the host to pick up.
  out+=("MSBUILDDISABLENODEREUSE=1" "DOTNET_CLI_USE_MSBUILD_SERVER=0" "UseSharedCompilation=false")
  out+=("MLLRSCHED_DEBIAN13_INSIDE=1")
  if [[ -n ${DOTNET_DIR:-} ]]; then out+=("DOTNET_ROOT=$DOTNET_DIR"); fi
}

# Files the carried TLS variables point at must exist inside too (same path); copy any that the root lacks.
carry_env_files() {
  local root=$1 kv val
  local -a envv
  root_env envv
  for kv in "${envv[@]}"; do
    case ${kv%%=*} in SSL_CERT_FILE|*CA_BUNDLE*|*CA_CERTS*|*CAINFO*|*_CERT|*_CERT_FILE) ;; *) continue ;; esac
    val=${kv#*=}
    [[ $val == /* && -f $val && ! -e $root$val ]] && { mkdir -p "$(dirname "$root$val")"; cp -L "$val" "$root$val"; }
  done
  return 0
}

# ---------------------------------------------------------------------------------------------------------------
# Carrying host configuration into the root (at build time and again, cheaply, on every ensure/run, so that a
# changed proxy or CA certificate on the host reaches an existing root)

sync_apt_config() {
  local root=$1 line f
  {
    echo "// From the host's apt configuration by tools/debian13.sh (Acquire:: settings beyond apt's defaults)."
    host_acquire_settings
  } | write_if_changed "$root/etc/apt/apt.conf.d/90mllrsched-host"
  # Files those settings name (CaInfo, SslCert, ...) must be readable inside.
  while IFS= read -r line; do
    f=${line#*\"}; f=${f%\";}
    [[ $f == /* && -f $f && ! -e $root$f ]] && { mkdir -p "$(dirname "$root$f")"; cp -L "$f" "$root$f"; }
  done <"$root/etc/apt/apt.conf.d/90mllrsched-host"
  return 0
}

# Prints the PEM blocks of bundle FILE (one per line, base64 body only) — to compare bundles certificate by
# certificate.
pem_bodies() {
  awk '/-----BEGIN CERTIFICATE-----/ { b = ""; on = 1; next }
       /-----END CERTIFICATE-----/ { if (on) print b; on = 0; next }
       on { gsub(/[ \t\r]/, ""); b = b $0 }' "$1" 2>/dev/null | sort -u
}

# The host's extra CAs (/usr/local/share/ca-certificates) go in the root's local CA folder and through its
# update-ca-certificates. Certificates that are in the host's bundle but in neither CA folder of the host (appended
# to the bundle directly, e.g. by an image build) are added as one more local CA file, so they survive later
# update-ca-certificates runs inside. Mozilla roots that the newer ca-certificates dropped (distrusted ones such as
# TrustCor) are in the host's /usr/share/ca-certificates and so are NOT carried over.
sync_ca_certificates() {
  local root=$1 host_local=/usr/local/share/ca-certificates host_bundle=/etc/ssl/certs/ca-certificates.crt
  local mark="$root/etc/ssl/.mllrsched-host-ca" fp dest="$root/usr/local/share/ca-certificates/mllrsched-host"
  fp=$( { find "$host_local" -type f -name '*.crt' -print0 2>/dev/null | sort -z | xargs -0r cat; \
          cat "$host_bundle" 2>/dev/null; } | sha256sum | cut -c1-16)
  [[ -f $mark && $(cat "$mark") == "$fp" ]] && return 0
  [[ -x $root/usr/sbin/update-ca-certificates ]] || return 0
  log "carrying the host's CA certificates into the root"
  rm -rf "$dest"; mkdir -p "$dest"
  [[ -d $host_local ]] && cp -rL "$host_local/." "$dest/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || log "warning: update-ca-certificates failed in the root"
  if [[ -s $host_bundle ]]; then
    local missing
    missing=$(comm -23 <(pem_bodies "$host_bundle") \
      <(find /usr/share/ca-certificates "$host_local" -name '*.crt' -print0 2>/dev/null | xargs -0r cat \
        | pem_bodies /dev/stdin) \
      | comm -23 - <(pem_bodies "$root/etc/ssl/certs/ca-certificates.crt"))
    if [[ -n $missing ]]; then
      echo "$missing" | awk '{ print "-----BEGIN CERTIFICATE-----"; for (i = 1; i <= length($0); i += 64)
                               print substr($0, i, 64); print "-----END CERTIFICATE-----" }' \
        >"$dest/host-bundle-extra.crt"
      chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
    fi
    # Last resort: the root's bundle must at least trust what the host trusts.
    [[ -s $root/etc/ssl/certs/ca-certificates.crt ]] || cp -L "$host_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
  fi
  echo "$fp" >"$mark"
}

sync_host_config() {
  local root=$1
  sync_apt_config "$root"
  sync_ca_certificates "$root"
}

# ---------------------------------------------------------------------------------------------------------------
# Building

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  command -v apt-get >/dev/null || cannot "debootstrap is missing and there is no apt-get to install it"
  log "installing debootstrap on the host"
  local install=(apt-get install -y -qq --no-install-recommends debootstrap)
  export DEBIAN_FRONTEND=noninteractive
  # Straight away first: the host's package lists are usually recent enough.
  "${install[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && "${install[@]}" >/dev/null 2>&1; } \
    || cannot "could not install debootstrap with apt-get"
}

# Runs CMD inside ROOT with the clean environment (build steps).
in_root() {
  local root=$1; shift
  local -a envv
  root_env envv
  chroot "$root" /usr/bin/env -i "${envv[@]}" DEBIAN_FRONTEND=noninteractive "$@"
}

# Resolves "a|b" entries to the first package the suite has; optional entries resolve to nothing when absent.
resolve_packages() {
  local root=$1 optional=$2 entry alt found info
  local -a alts
  shift 2
  for entry in "$@"; do
    found=""
    IFS='|' read -ra alts <<<"$entry"
    for alt in "${alts[@]}"; do
      # Captured, not piped into grep -q: under pipefail an early-exiting grep fails the pipeline.
      info=$(in_root "$root" apt-cache show --no-all-versions "$alt" 2>/dev/null) || true
      if [[ $info == Package:* ]]; then found=$alt; break; fi
    done
    if [[ -n $found ]]; then echo "$found"
    elif [[ $optional == optional ]]; then log "note: $SUITE has no package $entry; skipping it"
    else log "error: $SUITE has none of: ${entry//|/, }"; return 1
    fi
  done
}

build_root() {
  local tmp="$CACHE/debian13-$KEY.building" logf="$CACHE/debian13-$KEY.log" started=$SECONDS
  : >"$logf"
  ensure_debootstrap
  export_apt_proxies
  safe_rmtree "$tmp" || die "a previous interrupted build at $tmp could not be removed"
  mkdir -p "$CACHE/debootstrap-debs" "$CACHE/apt-archives/partial"

  # A debootstrap older than the suite has no script for it; sid's is the generic Debian one.
  local script=()
  [[ -e /usr/share/debootstrap/scripts/$SUITE ]] || script=(/usr/share/debootstrap/scripts/sid)

  log "building the $SUITE root (key $KEY) from $MIRROR; log: $logf"
  log "debootstrap --variant=minbase (~1-2 min)"
  # ca-certificates up front: apt inside needs it for https mirrors before anything else is installed.
  if ! debootstrap --variant=minbase --include=ca-certificates --cache-dir="$CACHE/debootstrap-debs" \
       "$SUITE" "$tmp" "$MIRROR" "${script[@]}" >>"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "debootstrap failed (log: $logf)"
  fi
  log "debootstrap done after $((SECONDS - started)) s"

  # --- apt and dpkg configuration of the root
  local security="" updates=""
  url_exists "$MIRROR/dists/$SUITE-updates/InRelease" && updates=" $SUITE-updates"
  local sec_mirror=$HOST_SECURITY
  # A host without a security entry: try the sibling of the main mirror (…/debian → …/debian-security).
  [[ $sec_mirror == - && $MIRROR == */debian ]] && sec_mirror="${MIRROR%/debian}/debian-security"
  [[ $sec_mirror != - ]] && url_exists "$sec_mirror/dists/$SUITE-security/InRelease" && security=$sec_mirror
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\n' "$MIRROR" "$SUITE" "$updates"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n $security ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$security" "$SUITE"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$tmp/etc/apt/sources.list.d/debian.sources"
  rm -f "$tmp/etc/apt/sources.list"
  log "apt sources: $MIRROR $SUITE$updates${security:+; $security $SUITE-security}"
  cat >"$tmp/etc/apt/apt.conf.d/00mllrsched" <<'EOF'
// tools/debian13.sh: a lean, non-interactive build root.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::Retries "3";
Dpkg::Use-Pty "0";
EOF
  # No documentation, and no fsync per file: a failed build is thrown away anyway, and on 2 cores dpkg's syncs
  # were a large part of the install time.
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/01mllrsched" <<'EOF'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
  # Services must not start inside a chroot.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"
  sync_host_config "$tmp"

  # --- packages (one apt-get install; .debs kept in the cache for the next build)
  mount_system "$tmp"
  mnt "$tmp/var/cache/apt/archives" --bind "$CACHE/apt-archives"
  log "apt-get update"
  if ! in_root "$tmp" apt-get update -qq >>"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "apt-get update failed in the root (log: $logf)"
  fi
  local pkgs opt
  pkgs=$(resolve_packages "$tmp" required "${PACKAGES[@]}") || die "package list does not fit $SUITE"
  opt=$(resolve_packages "$tmp" optional "${OPTIONAL_PACKAGES[@]}")
  # shellcheck disable=SC2086  # word splitting of the package lists is intended
  set -- $pkgs $opt
  log "apt-get install $* (~2 min)"
  if ! in_root "$tmp" apt-get install -y -q --no-install-recommends "$@" >>"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "apt-get install failed in the root (log: $logf)"
  fi
  log "apt-get install done after $((SECONDS - started)) s"

  # --- checks before the root is declared complete
  local lib
  lib=$(find "$tmp/usr/lib" -name 'libstdc++.so.6' -path '*-linux-gnu*' 2>/dev/null | head -n1) || true
  if [[ -z $lib ]] || ! grep -aq "$NEEDED_GLIBCXX" "$lib"; then die "the root's libstdc++ lacks $NEEDED_GLIBCXX"; fi
  local torch
  torch=$(in_root "$tmp" python3 -c 'import torch; print(torch.__version__)' 2>>"$logf") \
    || die "python3 -c 'import torch' fails in the root (log: $logf)"
  unmount_all

  {
    echo "key=$KEY"
    echo "script_version=$SCRIPT_VERSION"
    echo "suite=$SUITE"
    echo "mirror=$MIRROR"
    echo "packages=$*"
    echo "torch=$torch"
    # shellcheck disable=SC2016  # ${Version} is dpkg-query's field syntax
    echo "libtorch-dev=$(chroot "$tmp" dpkg-query -W -f='${Version}' libtorch-dev)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$tmp/$STAMP_NAME"
  safe_rmtree "$ROOT" || die "cannot replace $ROOT"
  mv "$tmp" "$ROOT"
  log "built $ROOT in $((SECONDS - started)) s (torch $torch)"
  remove_stale_roots
}

# Roots of other keys (older script versions, other mirrors) are dead weight of ~2 GB each. One in use by a run
# (which holds its lock) is left for a later call.
remove_stale_roots() {
  local d
  for d in "$CACHE"/debian13-*; do
    [[ -d $d && $d != "$ROOT" ]] || continue
    # Builds of every key share the build lock, which the caller holds: any other .building is a dead one.
    if [[ $d == *.building ]]; then safe_rmtree "$d" || true; continue; fi
    (
      exec 7>"$d.lock"
      flock -n -x 7 || exit 0
      log "removing stale root $d"
      safe_rmtree "$d" && rm -f "$d.lock" "$d.log"
    ) || true
  done
}

# Builds the root unless a complete one exists; refreshes the host configuration in it either way.
ensure_root() {
  mkdir -p "$CACHE"
  case "$CACHE/" in "$REPO"/*) die "the cache ($CACHE) must be outside the repository" ;; esac
  exec 9>"$BUILD_LOCK"
  # A refresh by a concurrent call takes milliseconds; only say something when it is a build being waited for.
  if ! flock -w 3 -x 9; then
    log "waiting for another build of the root to finish"
    flock -x 9
  fi
  root_complete || build_root
  sync_host_config "$ROOT"
  exec 9>&-
}

# ---------------------------------------------------------------------------------------------------------------
# Running

# Where the command starts: the caller's directory when the root can see it at the same path, else the repository.
run_cwd() {
  local here
  here=$(pwd -P)
  case "$here/" in "$REPO"/*|/tmp/*) echo "$here" ;; *) echo "$REPO" ;; esac
}

# Processes left behind in this run's private mount namespace (daemons the command started) would keep the
# namespace and its mounts alive; they are ended with the run. Never in the host namespace.
end_leftovers() {
  [[ $IN_PRIVATE_NS == 1 ]] || return 0
  local ours p d victims=()
  ours=$(readlink /proc/$$/ns/mnt) || return 0
  [[ $ours != "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]] || return 0
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [[ $p == "$$" ]] && continue
    [[ $(readlink "$d/ns/mnt" 2>/dev/null) == "$ours" ]] && victims+=("$p")
  done
  ((${#victims[@]})) || return 0
  log "ending ${#victims[@]} process(es) the command left running in the root"
  kill -TERM "${victims[@]}" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "${victims[@]}" 2>/dev/null || return 0
    sleep 0.3
  done
  kill -KILL "${victims[@]}" 2>/dev/null || true
}

CHILD=""
# A signal for the command: it usually got it already (terminal Ctrl+C and timeout(1) signal the whole process
# group), so give it a moment before forwarding, to not interrupt its own shutdown with a second one.
forward() {
  local sig=$1
  [[ -n $CHILD ]] || return 0
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$CHILD" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -s "$sig" "$CHILD" 2>/dev/null || true
}

run_in_root() {
  local root=$ROOT cwd
  cwd=$(run_cwd)
  # Without a private namespace the mounts are global, so concurrent runs must not undo each other's.
  [[ $IN_PRIVATE_NS == 1 ]] || flock -x 8

  mount_system "$root"
  # Host /tmp: outputs built on the host under /tmp run inside, and NuGet's cross-process locks (in $TMPDIR)
  # then see each other.
  mnt "$root/tmp" --bind /tmp
  bind_same_path "$root" "$REPO"
  # A worktree's or submodule's git directory lives outside it; the SDK's SourceLink reads it.
  if command -v git >/dev/null; then
    local gd
    for gd in "$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)" \
              "$(git -C "$REPO" rev-parse --absolute-git-dir 2>/dev/null || true)"; do
      [[ -n $gd && $gd != "$REPO"/* && $gd != /tmp/* && ! -e $root$gd/HEAD ]] && bind_same_path "$root" "$gd"
    done
  fi
  if [[ -n $DOTNET_DIR ]]; then
    bind_same_path "$root" "$DOTNET_DIR" ro
    [[ $(readlink "$root/usr/bin/dotnet" 2>/dev/null) == "$DOTNET_DIR/dotnet" ]] \
      || ln -sfn "$DOTNET_DIR/dotnet" "$root/usr/bin/dotnet"
  fi
  local nuget_packages=${NUGET_PACKAGES:-$HOME/.nuget/packages} nuget_config=$HOME/.nuget/NuGet
  mkdir -p "$nuget_packages" "$nuget_config" "$root$HOME"
  bind_same_path "$root" "$nuget_packages"
  bind_same_path "$root" "$nuget_config"
  carry_env_files "$root"

  local -a envv
  root_env envv
  # Background + wait so that signals reach this shell's traps while the command runs. A non-interactive bash
  # starts background jobs with SIGINT ignored and stdin on /dev/null: env --default-signal undoes the former
  # (the root's coreutils has it), <&0 the latter.
  chroot "$root" /usr/bin/env --default-signal=INT,QUIT -i -C "$cwd" "${envv[@]}" "$@" <&0 8>&- &
  CHILD=$!
  trap 'forward INT' INT
  trap 'forward TERM' TERM
  trap 'forward HUP' HUP
  local rc
  while :; do
    rc=0
    wait "$CHILD" || rc=$?
    kill -0 "$CHILD" 2>/dev/null || break   # else the wait was cut short by a signal
  done
  CHILD=""
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap 'on_signal HUP' HUP
  end_leftovers
  unmount_all
  return "$rc"
}

# The host's .NET installation directory (for the read-only bind), or empty.
find_dotnet_dir() {
  local exe
  exe=$(command -v dotnet 2>/dev/null) || return 0
  exe=$(readlink -f "$exe")
  local dir
  dir=$(dirname "$exe")
  # Binding a system directory over the root's would replace the root's own userland.
  case $dir in
    /|/usr|/usr/bin|/usr/lib|/usr/lib64|/usr/local|/usr/local/bin|/usr/share|/bin|/lib|/lib64|/opt|/etc|/var|/home|/root|/tmp)
      log "warning: dotnet lives in $dir, which cannot be bind-mounted into the root; no dotnet inside"
      return 0 ;;
  esac
  echo "$dir"
}

# Re-executes this script in a private mount namespace (same pid: unshare without --fork execs), so that no
# mount can outlive the script even when it is killed with SIGKILL.
enter_private_ns() {
  [[ $IN_PRIVATE_NS == 1 || ${MLLRSCHED_DEBIAN13_UNSHARE:-1} == 0 ]] && return 0
  if ! command -v unshare >/dev/null || ! unshare -m --propagation private true 2>/dev/null; then
    log "note: no private mount namespace here (unshare -m refused); mounts are undone by traps only"
    return 0
  fi
  export __MLLRSCHED_DEBIAN13_NS=$$
  exec unshare -m --propagation private -- "$BASH" "$SELF" "$@"
}

status_line() {
  local state="absent" host build
  if root_complete; then state="present"
  elif [[ -d $CACHE/debian13-$KEY.building ]]; then state="absent (an interrupted build is left)"
  fi
  if host_is_new_enough; then
    host="host libstdc++ has $NEEDED_GLIBCXX: run is native, no root needed"
  else
    host="host libstdc++ lacks $NEEDED_GLIBCXX: run uses the root"
  fi
  if [[ $(id -u) -ne 0 ]]; then build="no (not root)"
  elif command -v debootstrap >/dev/null; then build="yes (root, debootstrap installed)"
  elif command -v apt-cache >/dev/null && apt-cache show debootstrap >/dev/null 2>&1; then
    build="yes (root, debootstrap installable with apt)"
  else build="no (debootstrap neither installed nor installable)"
  fi
  echo "[debian13] root $state: $ROOT (key $KEY, $SUITE from $MIRROR); $host; can build: $build"
}

usage() {
  sed -n '2,/^set -euo/p' "$SELF" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    status)
      status_line ;;
    ensure)
      if host_is_new_enough; then log "host libstdc++ has $NEEDED_GLIBCXX: no root needed"; echo /; return 0; fi
      need_root
      enter_private_ns ensure
      ensure_root
      echo "$ROOT" ;;
    run)
      [[ ${1:-} == -- ]] && shift
      [[ $# -gt 0 ]] || usage
      if host_is_new_enough; then
        log "host libstdc++ has $NEEDED_GLIBCXX: running natively, without the Debian 13 root"
        cd "$(run_cwd)"
        exec "$@"
      fi
      need_root
      enter_private_ns run -- "$@"
      DOTNET_DIR=$(find_dotnet_dir)
      # A shared lock on the root, taken before it is ensured and held until the command ends: a newer script
      # version's remove_stale_roots leaves a root in use alone.
      mkdir -p "$CACHE"
      exec 8>"$ROOT.lock"
      flock -s 8
      ensure_root
      run_in_root "$@" ;;
    clean)
      need_root
      enter_private_ns clean
      mkdir -p "$CACHE"
      exec 9>"$BUILD_LOCK"; flock -x 9
      local d
      for d in "$CACHE"/debian13-*; do
        [[ -d $d ]] || continue
        log "removing $d"; safe_rmtree "$d" || true
      done
      rm -rf "$CACHE/debootstrap-debs" "$CACHE/apt-archives"
      rm -f "$CACHE"/debian13-*.lock "$CACHE"/debian13-*.log ;;
    -h|--help|help) usage ;;
    *) usage ;;
  esac
}

DOTNET_DIR=""
main "$@"
