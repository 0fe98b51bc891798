#!/usr/bin/env bash
# Creates (once) the unprivileged test user "skiffci" with a subordinate id range; prints its uid.
set -euo pipefail
id skiffci >/dev/null 2>&1 || useradd -m -s /bin/bash skiffci
grep -q '^skiffci:' /etc/subuid 2>/dev/null || echo 'skiffci:200000:65536' >> /etc/subuid
grep -q '^skiffci:' /etc/subgid 2>/dev/null || echo 'skiffci:200000:65536' >> /etc/subgid
[ -e /dev/net/tun ] && chmod 0666 /dev/net/tun || true
id -u skiffci
