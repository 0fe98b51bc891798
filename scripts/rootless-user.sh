#!/usr/bin/env bash
# rootless-user.sh — create (once) the unprivileged test user "skiffci" (as root). Idempotent.
#   - home /home/skiffci, shell bash
#   - subordinate ids skiffci:200000:65536 in /etc/subuid and /etc/subgid (newuidmap/newgidmap, uidmap)
#   - ~/.config/containers/storage.conf with driver = "overlay" and runroot in the home: Debian's podman 4.3 otherwise falls
#     back to vfs silently for rootless users (shared/GUIDE.md §6)
#   - /dev/net/tun usable by the user (slirp4netns/pasta), when it exists
# Prints the uid on stdout.
set -euo pipefail
user=${SKIFF_CI_USER:-skiffci}
range_start=200000
range_size=65536
[ "$(id -u)" = 0 ] || { echo "Error: run as root" >&2; exit 1; }

created=0
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --comment "skiff rootless tests" "$user"
  created=1
fi
home=$(getent passwd "$user" | cut -d: -f6)
[ -d "$home" ] || { mkdir -p "$home"; chown "$user:" "$home"; chmod 0750 "$home"; }

# Subordinate ids. useradd on Debian 12 hands out a range of its own (from 100000): a user this script
# created gets the documented range instead. A range that already existed is kept when it is big
# enough: ids already written into the user's stores belong to it.
ensure_range() { # FILE
  local f=$1 cur
  touch "$f"
  cur=$(awk -F: -v u="$user" '$1 == u {print $2 ":" $3; exit}' "$f")
  if [ "$created" = 1 ] || [ -z "$cur" ] || [ "${cur#*:}" -lt "$range_size" ]; then
    sed -i "/^$user:/d" "$f"
    echo "$user:$range_start:$range_size" >>"$f"
    # someone else's range overlapping ours would let that user reach our files
    awk -F: -v u="$user" -v s="$range_start" -v n="$range_size" \
      '$1 != u && $2 < s + n && s < $2 + $3 {print "rootless-user.sh: warning: " FILENAME ": " $0 " overlaps " u ":" s ":" n > "/dev/stderr"}' "$f"
  fi
}
ensure_range /etc/subuid
ensure_range /etc/subgid

# newuidmap/newgidmap must be setuid (or have file capabilities) for a user namespace with the range.
for b in /usr/bin/newuidmap /usr/bin/newgidmap; do
  [ -x "$b" ] || echo "rootless-user.sh: warning: $b missing (apt-get install uidmap)" >&2
done

# Rootless podman storage: overlay (the kernel does rootless overlay natively), and its runtime dirs in
# the user's home: by default they follow XDG_RUNTIME_DIR, which each test run sets to a directory of its
# own, and Podman's database keeps the first run's (it then makes them again under /tmp in every run).
conf="$home/.config/containers/storage.conf"
pdir="$home/.local/share/containers"
if ! grep -qs '^runroot' "$conf"; then
  runuser -u "$user" -- mkdir -p "$home/.config/containers" "$pdir"
  printf '[storage]\ndriver = "overlay"\nrunroot = "%s/run"\n' "$pdir" >"$conf"
  printf '[engine]\ntmp_dir = "%s/tmp"\n' "$pdir" >"$home/.config/containers/containers.conf"
  chown "$user:" "$conf" "$home/.config/containers/containers.conf"
  # a store made with the old places: Podman refuses the new ones until it is reset (test user only)
  runuser -u "$user" -- env -i PATH=/usr/bin:/bin HOME="$home" podman system reset -f >/dev/null 2>&1 || true
fi

if [ -c /dev/net/tun ]; then chmod 0666 /dev/net/tun; fi

id -u "$user"
