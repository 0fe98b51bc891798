#!/usr/bin/env bash
# setup-debian.sh — prepare a Debian 12 machine (as root) to build and test skiff. Idempotent.
#   build:    build-essential python3 pkg-config libseccomp-dev libjansson-dev libisal-dev (+ Node.js 20 if missing)
#   peers:    podman crun skopeo buildah umoci docker-registry podman-compose python3-docker (docker-py),
#             docker.io (the client, only if no docker is on PATH; its daemon is never started)
#   fixtures: busybox-static debootstrap libcap2-bin uidmap apache2-utils jq iproute2 hyperfine
#             dpkg-dev (dpkg-scanpackages: the local apt repository of the package's install test)
#   shells:   zsh fish (the completion scripts parse), groff-base (the man page checks: test/e2e/completion.test.ts)
#   network:  aardvark-dns (names on user networks), passt (pasta: rootless), nftables iptables
#             (inspection in tests), netavark slirp4netns (bench/net.sh compares them)
# and the machine quirks the tests need (shared/GUIDE.md §6): the hugetlb v1 controller for crun on a
# v1/hybrid cgroup layout, podman's default_ulimits kept within the hard limits, the docker-registry
# package's own service out of the way. Prints one line per step; details go to $SETUP_LOG.
set -euo pipefail
log=${SETUP_LOG:-/tmp/skiff-setup.log}
: >"$log"
step() { echo "setup: $*"; echo "=== $*" >>"$log"; }
die() { echo "setup: FAILED: $* (log: $log)" >&2; tail -n 20 "$log" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "Error: run as root (sudo bash $0)" >&2; exit 1; }
. /etc/os-release 2>/dev/null || true
[ "${VERSION_CODENAME:-}" = bookworm ] || echo "setup: warning: written for Debian 12 (bookworm), this is ${PRETTY_NAME:-unknown}"

export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential python3 pkg-config libseccomp-dev libjansson-dev libisal-dev
  docker-registry skopeo umoci buildah podman crun podman-compose python3-docker busybox-static debootstrap uidmap
  apache2-utils jq iproute2 hyperfine libcap2-bin ca-certificates curl tar gzip dpkg-dev
  aardvark-dns netavark passt slirp4netns nftables iptables
  zsh fish groff-base openssh-client
)
missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null | awk '$2 != "installed" {print $1}' || true)
# packages dpkg has never heard of are not printed by dpkg-query: count what is installed instead
ninst=$(dpkg-query -W -f='${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null | grep -c '^installed$' || true)
if [ "$ninst" -lt "${#pkgs[@]}" ] || [ -n "$missing" ]; then
  step "apt-get update"
  apt-get update >>"$log" 2>&1 || die "apt-get update"
  step "apt-get install (${#pkgs[@]} packages)"
  apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 || die "apt-get install"
else
  step "apt packages already installed"
fi

# Node.js >= 20 with npm: keep the machine's own (e.g. nodesource, which bundles npm), else Debian's.
# (Debian 12's nodejs is 18: the build needs 20, so that only helps as a clear error below.)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  step "nodejs + npm from Debian"
  apt-get install -y --no-install-recommends nodejs npm >>"$log" 2>&1 || die "apt-get install nodejs npm"
fi
nodemajor=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$nodemajor" -ge 20 ] || die "Node.js >= 20 is required (found $(node -v 2>/dev/null || echo none))"
step "node $(node -v), npm $(npm -v)"

# The Engine API tests drive a real docker client. Without one on PATH, take Debian's (docker.io,
# 20.10) with its daemon kept from starting: a dockerd would add its own bridge and firewall rules.
if ! command -v docker >/dev/null; then
  step "docker client from Debian (docker.io; its daemon is not started)"
  prc=/usr/sbin/policy-rc.d
  [ -e "$prc" ] && prc_keep=1 || { printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 0755 "$prc"; }
  apt-get install -y --no-install-recommends docker.io >>"$log" 2>&1 || { [ -n "${prc_keep:-}" ] || rm -f "$prc"; die "apt-get install docker.io"; }
  [ -n "${prc_keep:-}" ] || rm -f "$prc"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now docker.service docker.socket containerd.service >>"$log" 2>&1 || true
  fi
fi

# The docker-registry package ships a service on :5000 (started where systemd runs). Tests start their
# own registries on free ports (scripts/registry.sh) and must never depend on, or collide with, it.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  if systemctl is-enabled --quiet docker-registry 2>/dev/null || systemctl is-active --quiet docker-registry 2>/dev/null; then
    step "stop + disable the docker-registry service (tests run their own)"
    systemctl disable --now docker-registry >>"$log" 2>&1 || true
  fi
fi

# cgroups: crun refuses a hybrid (v1 + unified) layout unless the hugetlb v1 controller is mounted.
fstype=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)
if [ "$fstype" = tmpfs ]; then
  if grep -qw hugetlb /proc/cgroups && ! mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null; then
    step "mount the hugetlb cgroup v1 controller (crun on a hybrid layout)"
    mkdir -p /sys/fs/cgroup/hugetlb 2>>"$log" || true
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb >>"$log" 2>&1 ||
      echo "setup: warning: could not mount the hugetlb controller; crun (podman) may refuse to run"
  else
    step "cgroups: v1/hybrid, hugetlb controller present"
  fi
else
  step "cgroups: $fstype (unified)"
fi

# podman raises RLIMIT_NOFILE/NPROC of rootful containers to large defaults; root here lacks
# CAP_SYS_RESOURCE, so anything above the current hard limit fails. Pin the defaults within the hard
# limits. NPROC: podman's conmon (which starts crun) runs with a hard limit of 32768 whatever the
# shell's is (measured: nproc=32768 works, 40000 fails with EPERM where `ulimit -Hu` is 96365).
hn=$(ulimit -Hn); hu=$(ulimit -Hu)
[ "$hn" = unlimited ] && hn=1048576
[ "$hu" = unlimited ] || [ "$hu" -gt 32768 ] && hu=32768
want="default_ulimits = [\"nofile=$hn:$hn\", \"nproc=$hu:$hu\"]"
conf=/etc/containers/containers.conf
mkdir -p /etc/containers
touch "$conf"
if grep -qxF "$want" "$conf"; then
  step "podman default_ulimits already within the hard limits"
else
  step "podman default_ulimits: nofile=$hn nproc=$hu"
  python3 - "$conf" "$want" <<'EOP'
import re, sys
path, want = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
out, section, done, skipping = [], None, False, False
for line in lines:
    if skipping:  # the rest of a multi-line default_ulimits array
        skipping = ']' not in line
        continue
    m = re.match(r'^\s*\[([^\]]+)\]\s*$', line)
    if m:
        if section == 'containers' and not done:
            out.append(want); done = True
        section = m.group(1).strip()
        out.append(line)
        continue
    if section == 'containers' and re.match(r'^\s*default_ulimits\s*=', line):
        if not done:
            out.append(want); done = True
        skipping = '[' in line and ']' not in line
        continue
    out.append(line)
if not done:
    if section == 'containers':
        out.append(want)
    else:
        out += ['', '[containers]', want] if out else ['[containers]', want]
open(path, 'w').write('\n'.join(out) + '\n')
EOP
fi

# Rootless networking helpers (slirp4netns, pasta) open /dev/net/tun as the user.
if [ -c /dev/net/tun ]; then chmod 0666 /dev/net/tun; fi

step "done"
