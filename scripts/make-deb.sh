#!/usr/bin/env bash
# make-deb.sh [OUTDIR] — `make deb`: dist/skiff_VERSION_amd64.deb from the single executable dist/skiff
# (`make dist`) and the man page dist/skiff.1 (`make man`), with dpkg-deb alone. The package holds
# /usr/bin/skiff, its copyright note, the man page, the completions of bash, zsh and fish (what
# `skiff completion SHELL` prints) and the systemd units of contrib/systemd: skiff-restart.service
# (system: enabled at install, as Docker's package enables docker.service; user: for rootless users to
# enable) and the Engine API socket units (not enabled). It
# declares what skiff runs at run time: the C and C++ runtime node links, uidmap (newuidmap/newgidmap:
# rootless), passt (pasta: rootless networks), aardvark-dns (names on user-defined networks): the list is
# contrib/debian/depends (make-fixtures.sh downloads its closure for the package's install test).
# openssh-client (ssh-agent, ssh-add: `build --ssh ID=KEYFILE`) is suggested.
# Removing it removes the native parts the executable wrote for root (/var/lib/skiff/native,
# /run/skiff/native) and root's store when it is empty; a store with images, containers or volumes
# (/var/lib/skiff) is the user's data and stays, as Docker's packages leave /var/lib/docker
# (`skiff system reset` before removing empties it).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/dist}
EXE="$REPO/dist/skiff"
[ -x "$EXE" ] || { echo "Error: $EXE is missing: run 'make dist'" >&2; exit 1; }
MAN=${SKIFF_DEB_MAN:-$REPO/dist/skiff.1} # the man page (`make man`; a test gives its own)
[ -f "$MAN" ] || { echo "Error: $MAN is missing: run 'make man'" >&2; exit 1; }
VERSION=$(node -p "require('$REPO/package.json').version")
ARCH=$(dpkg --print-architecture)
DEB="$OUT/skiff_${VERSION}_${ARCH}.deb"
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/skiff-deb.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
chmod 0755 "$ROOT"

install -d -m 0755 "$ROOT/DEBIAN" "$ROOT/usr/bin" "$ROOT/usr/share/doc/skiff"
install -m 0755 "$EXE" "$ROOT/usr/bin/skiff"
install -d -m 0755 "$ROOT/usr/share/man/man1" "$ROOT/usr/share/bash-completion/completions" \
  "$ROOT/usr/share/zsh/vendor-completions" "$ROOT/usr/share/fish/vendor_completions.d" \
  "$ROOT/lib/systemd/system" "$ROOT/usr/lib/systemd/user"
gzip -9n <"$MAN" >"$ROOT/usr/share/man/man1/skiff.1.gz"
# the scripts come from the bundle the executable carries (the checkout's launcher: no native parts written)
node "$REPO/bin/skiff.cjs" completion bash >"$ROOT/usr/share/bash-completion/completions/skiff"
node "$REPO/bin/skiff.cjs" completion zsh >"$ROOT/usr/share/zsh/vendor-completions/_skiff"
node "$REPO/bin/skiff.cjs" completion fish >"$ROOT/usr/share/fish/vendor_completions.d/skiff.fish"
chmod 0644 "$ROOT/usr/share/man/man1/skiff.1.gz" "$ROOT/usr/share/bash-completion/completions/skiff" \
  "$ROOT/usr/share/zsh/vendor-completions/_skiff" "$ROOT/usr/share/fish/vendor_completions.d/skiff.fish"
for u in skiff-restart.service skiff.service skiff.socket; do
  install -m 0644 "$REPO/contrib/systemd/system/$u" "$ROOT/lib/systemd/system/$u"
  install -m 0644 "$REPO/contrib/systemd/user/$u" "$ROOT/usr/lib/systemd/user/$u"
done
cat >"$ROOT/usr/share/doc/skiff/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: skiff
Comment: /usr/bin/skiff is a Node.js single executable application: it contains Node.js $(node -p process.version)
 (MIT license, https://github.com/nodejs/node/blob/main/LICENSE) and skiff's JavaScript bundle and native parts.
EOF
size=$(du -k -s "$ROOT/usr" | cut -f1)
cat >"$ROOT/DEBIAN/control" <<EOF
Package: skiff
Version: $VERSION
Architecture: $ARCH
Maintainer: skiff maintainers <skiff@localhost>
Installed-Size: $size
Depends: $(cat "$REPO/contrib/debian/depends")
Recommends: busybox-static
Suggests: openssh-client
Section: admin
Priority: optional
Description: daemonless, Docker-compatible container CLI
 skiff runs, builds, pulls and pushes OCI containers and images with Docker's command line,
 without a daemon: alias docker=skiff. Rootful as root, rootless (user namespace and subordinate
 ids) for other users. One executable: Node.js, the CLI and its native parts.
EOF
cat >"$ROOT/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# skiff-restart.service starts the restart-policy containers at boot (as the daemon of Docker's package would)
set -e
if [ "$1" = configure ] && command -v deb-systemd-helper >/dev/null; then
  deb-systemd-helper enable skiff-restart.service >/dev/null || true
fi
exit 0
EOF
cat >"$ROOT/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# The native parts /usr/bin/skiff wrote for root (derived from the executable: nothing of the user's),
# and the enablement of skiff-restart.service (its symlink in /etc).
set -e
case "$1" in
  remove | purge)
    rm -rf /var/lib/skiff/native /run/skiff/native
    rmdir /run/skiff 2>/dev/null || true
    # root's store when it holds nothing but empty directories and lock files (skiff made it on first use)
    if [ -d /var/lib/skiff ] && [ -z "$(find /var/lib/skiff -path /var/lib/skiff/locks -prune -o ! -type d -print -quit)" ]; then
      rm -rf /var/lib/skiff
    fi
    if command -v deb-systemd-helper >/dev/null; then deb-systemd-helper purge skiff-restart.service >/dev/null || true; fi
    ;;
esac
exit 0
EOF
chmod 0755 "$ROOT/DEBIAN/postinst"
chmod 0755 "$ROOT/DEBIAN/postrm"
mkdir -p "$OUT"
dpkg-deb --root-owner-group --build -Zgzip "$ROOT" "$DEB" >/dev/null
echo "$(realpath --relative-to="$REPO" "$DEB"): $(du -h "$DEB" | cut -f1) (dpkg-deb --info/--contents to look inside)"
