#!/usr/bin/env bash
# make-fixtures.sh REGISTRY OUTDIR [busybox]
# Builds test images with independent tools (umoci from Debian; busybox from busybox-static) and pushes
# them with skopeo into the plain-HTTP registry REGISTRY. OUTDIR keeps the OCI layout (cached across runs),
# umoci's own unpacked view of each image (OUTDIR/unpacked/NAME/rootfs, for comparisons) and fixtures.json.
# With a third argument "busybox" only the busybox image is made (the README's demo).
set -euo pipefail
reg=${1:?usage: make-fixtures.sh REGISTRY OUTDIR [busybox]}
out=${2:?usage: make-fixtures.sh REGISTRY OUTDIR [busybox]}
only=${3:-}
mkdir -p "$out"
layout="$out/oci-v2"
work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -d "$layout" ] || umoci init --layout "$layout"
has() { umoci list --layout "$layout" 2>/dev/null | grep -qx "$1"; }
push() { skopeo copy -q --dest-tls-verify=false "oci:$layout:$1" "docker://$reg/$2" ${3:+--format "$3"}; }

busybox_rootfs() {
  local r=$1
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/home/app"
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n' > "$r/etc/group"
  chmod 1777 "$r/tmp"
  chown 1000:1000 "$r/home/app"
}

if ! has busybox; then
  umoci new --image "$layout:busybox"
  umoci unpack --image "$layout:busybox" "$work/bb" >/dev/null
  busybox_rootfs "$work/bb/rootfs"
  umoci repack --image "$layout:busybox" "$work/bb"
  umoci config --image "$layout:busybox" --config.cmd sh --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.label org.skiff.fixture=busybox --architecture amd64 --os linux
  rm -rf "$work/bb"
fi
push busybox busybox:latest
push busybox busybox:v2s2 v2s2
push busybox other/busybox:1
[ "$only" = busybox ] && { echo "{\"busybox\":\"$reg/busybox:latest\"}" > "$out/fixtures.json"; exit 0; }

# each repack must start from a fresh unpack of the current image, or umoci diffs against the first
# unpack again and the image keeps a single layer
repack_ml() {
  umoci repack --image "$layout:multilayer" "$work/ml"
  rm -rf "$work/ml"
  umoci unpack --image "$layout:multilayer" "$work/ml" >/dev/null
}
if ! has multilayer; then
  umoci new --image "$layout:multilayer"
  umoci unpack --image "$layout:multilayer" "$work/ml" >/dev/null
  r="$work/ml/rootfs"
  busybox_rootfs "$r"
  repack_ml
  # layer 2: modes, owners, setuid, sticky, hard links, symlinks, file capabilities, xattrs
  mkdir -p "$r/data/sub" "$r/data/sticky" "$r/data/gone-dir/x" "$r/data/opaque"
  echo secret > "$r/data/private"; chmod 0600 "$r/data/private"
  cp /bin/busybox "$r/data/suid"; chmod 4755 "$r/data/suid"
  chmod 1777 "$r/data/sticky"
  echo owned > "$r/data/owned"; chown 1000:1000 "$r/data/owned"
  echo nobody > "$r/data/nobody"; chown 65534:65534 "$r/data/nobody"
  echo linked > "$r/data/hard1"; ln "$r/data/hard1" "$r/data/hard2"
  ln -s ../data/owned "$r/data/rel-link"; ln -s /data/owned "$r/data/abs-link"
  cp /bin/busybox "$r/data/capbin"; setcap cap_net_bind_service+ep "$r/data/capbin"
  echo lower > "$r/data/opaque/lower-only"; echo keep > "$r/data/opaque/both"
  echo doomed > "$r/data/doomed"; echo x > "$r/data/gone-dir/x/y"
  repack_ml
  # layer 3: delete a file and a directory (whiteouts), replace a directory's content (opaque or whiteouts)
  rm "$r/data/doomed"; rm -rf "$r/data/gone-dir"
  rm -rf "$r/data/opaque"; mkdir "$r/data/opaque"; echo upper > "$r/data/opaque/both"; echo new > "$r/data/opaque/upper-only"
  repack_ml
  # layer 4: change a mode and an owner only
  chmod 0640 "$r/data/owned"; chown 0:50 "$r/data/nobody"
  repack_ml
  umoci config --image "$layout:multilayer" --config.cmd sh --config.workingdir /data --config.user app \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env FIXTURE=multilayer \
    --architecture amd64 --os linux
  rm -rf "$work/ml"
fi
push multilayer multilayer:latest

# multi-arch index: linux/amd64 = busybox, linux/arm64 = a tiny image whose config says arm64
if ! has arm64; then
  umoci new --image "$layout:arm64"
  umoci unpack --image "$layout:arm64" "$work/arm" >/dev/null
  echo arm64 > "$work/arm/rootfs/ARCH"
  umoci repack --image "$layout:arm64" "$work/arm"
  umoci config --image "$layout:arm64" --architecture arm64 --os linux --config.cmd /ARCH
  rm -rf "$work/arm"
fi
amd=$(skopeo inspect --raw "oci:$layout:busybox" | sha256sum | cut -d' ' -f1)
arm=$(skopeo inspect --raw "oci:$layout:arm64" | sha256sum | cut -d' ' -f1)
amdsz=$(skopeo inspect --raw "oci:$layout:busybox" | wc -c)
armsz=$(skopeo inspect --raw "oci:$layout:arm64" | wc -c)
push arm64 multiarch-arm64:latest
push busybox multiarch-amd64:latest
idx="$work/index.json"
jq -n --arg a "sha256:$amd" --arg b "sha256:$arm" --argjson sa "$amdsz" --argjson sb "$armsz" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $sa, platform: {architecture: "amd64", os: "linux"}},
    {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $sb, platform: {architecture: "arm64", os: "linux", variant: "v8"}}
  ]}' > "$idx"
# the index must live in one repository with both manifests and their blobs
skopeo copy -q --dest-tls-verify=false "oci:$layout:arm64" "docker://$reg/multiarch:arm64"
skopeo copy -q --dest-tls-verify=false "oci:$layout:busybox" "docker://$reg/multiarch:amd64"
python3 - "$reg" "$idx" <<'EOP'
import sys, urllib.request
reg, idx = sys.argv[1], open(sys.argv[2], 'rb').read()
req = urllib.request.Request(f"http://{reg}/v2/multiarch/manifests/latest", data=idx, method="PUT",
                             headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
urllib.request.urlopen(req)
EOP

# umoci's own unpacked view, for comparing skiff's extraction with an independent tool's
for img in busybox multilayer; do
  if [ ! -d "$out/unpacked/$img/rootfs" ]; then
    mkdir -p "$out/unpacked"
    umoci unpack --image "$layout:$img" "$out/unpacked/$img" >/dev/null
  fi
done
# the multilayer image's /data as umoci unpacked it, in the format of `stat -c` inside a container
(cd "$out/unpacked/multilayer/rootfs/data" && find . | LC_ALL=C sort | while read -r f; do stat -c '%n %F %a %u:%g %h' "$f"; done) > "$out/multilayer-data.list"
chmod 644 "$out/multilayer-data.list"
jq -n --arg reg "$reg" --arg out "$out" '{
  registry: $reg,
  busybox: "\($reg)/busybox:latest", busyboxV2s2: "\($reg)/busybox:v2s2", otherBusybox: "\($reg)/other/busybox:1",
  multilayer: "\($reg)/multilayer:latest", multiarch: "\($reg)/multiarch:latest",
  multilayerDataList: "\($out)/multilayer-data.list"
}' > "$out/fixtures.json"
