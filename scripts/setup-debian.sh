#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) for building and testing skiff: build tools, the
# peers (podman, crun, skopeo) and the fixture tools (docker-registry, umoci, busybox-static).
set -euo pipefail
log=/tmp/skiff-setup.log
step() { echo "setup: $*"; }
if [ "$(id -u)" != 0 ]; then echo "Error: run as root (sudo bash $0)" >&2; exit 1; fi
step "apt packages (log: $log)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >>"$log" 2>&1
apt-get install -y -qq --no-install-recommends \
  build-essential python3 pkg-config libseccomp-dev libjansson-dev \
  docker-registry skopeo umoci buildah podman crun busybox-static uidmap apache2-utils \
  jq iproute2 hyperfine libcap2-bin ca-certificates >>"$log" 2>&1
# Node.js 20+ with npm: keep the machine's own (e.g. nodesource, which bundles npm), else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get install -y -qq --no-install-recommends nodejs npm >>"$log" 2>&1
fi
# The docker-registry package starts its own service on :5000 where systemd runs; tests start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry >>"$log" 2>&1 || true
fi
# crun refuses a hybrid cgroup layout unless the hugetlb v1 controller is mounted (GUIDE §6).
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>>"$log" || true
fi
# podman must not raise rlimits above the hard limit here (root lacks CAP_SYS_RESOURCE).
hard=$(ulimit -Hn)
mkdir -p /etc/containers
if ! grep -q '^default_ulimits' /etc/containers/containers.conf 2>/dev/null; then
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s"]\n' "$hard" "$hard" >> /etc/containers/containers.conf
fi
step "done"
