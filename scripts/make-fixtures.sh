#!/usr/bin/env bash
# make-fixtures.sh REGISTRY OUTDIR [busybox]
#
# Builds the test images with independent tools and pushes them with skopeo into the plain-HTTP
# registry REGISTRY (host:port), then writes OUTDIR/fixtures.json (or $FIXTURES_JSON) describing them:
# references, digests as the registry serves them (skopeo inspect --raw / --config), per-layer tar
# facts (whiteouts, entries) read with Python's tarfile, and the files each image holds as umoci
# unpacks them. Schema: the `Fixtures` type in test/helpers/fixtures.ts.
#
#   busybox:latest       umoci, one layer: Debian's busybox-static + applet symlinks, passwd/group (OCI manifest)
#   busybox:v2s2         the same image as a Docker v2 schema 2 manifest (skopeo copy --format v2s2)
#   other/busybox:1      the same image in a second repository (cross-repo mounts)
#   multilayer:latest    umoci, busybox + 4 layers: modes/owners/setuid/sticky, links/xattrs/caps/long
#                        names, deletions (umoci writes per-file whiteouts), a mode-only change
#   opaque:latest        buildah (overlay driver), busybox + 1 layer with a real .wh..wh..opq and a .wh. file
#   multiarch:latest     OCI index: linux/amd64 (busybox) + linux/arm64/v8 (tiny, not runnable here)
#   debian:bookworm      debootstrap --variant=minbase, one layer, buildah (from scratch, add, commit)
#   bench-layers:latest  umoci, busybox + 8 layers of a few MB each (shared libraries and docs)
#
# The built OCI layouts are cached under OUTDIR (keyed by this script and the tools' versions), the
# debootstrap tarball separately: a re-run only pushes and describes. OUTDIR/.lock serialises runs.
# With a third argument "busybox" only the busybox images are made (the README's demo).
# Env: DEBIAN_MIRROR (default: this machine's apt source for bookworm), FIXTURES_JSON, FIXTURES_LOG.
set -euo pipefail
reg=${1:?usage: make-fixtures.sh REGISTRY OUTDIR [busybox]}
out=${2:?usage: make-fixtures.sh REGISTRY OUTDIR [busybox]}
only=${3:-}
[ "$(id -u)" = 0 ] || { echo "Error: make-fixtures.sh runs as root (owners, setuid bits, file capabilities)" >&2; exit 1; }
for t in umoci skopeo buildah jq python3 setcap getcap debootstrap busybox; do
  command -v "$t" >/dev/null || { echo "Error: $t is missing: run scripts/setup-debian.sh" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
json=${FIXTURES_JSON:-$out/fixtures.json}
log=${FIXTURES_LOG:-$out/make-fixtures.log}
exec 9>"$out/.lock"
flock 9 # one run at a time per OUTDIR (the cache and the log are shared)
: >"$log"
t0=$(date +%s)
step() { echo "fixtures: $* ($(($(date +%s) - t0))s)"; echo "=== $*" >>"$log"; }
die() { echo "fixtures: FAILED: $* (log: $log)" >&2; tail -n 25 "$log" >&2; exit 1; }
run() { "$@" >>"$log" 2>&1 || die "$*"; }

# ---- cache, keyed by what determines the images' content ------------------------------------------
key=$( { cat "$0"; dpkg-query -W busybox-static umoci buildah skopeo 2>/dev/null; } | sha256sum | cut -c1-12)
cache="$out/cache-$key"
for old in "$out"/cache-*; do # other versions of the fixtures: drop them once a day old
  [ "$old" = "$cache" ] || [ ! -d "$old" ] || [ -z "$(find "$old" -maxdepth 0 -mmin +1440)" ] || rm -rf "$old"
done
mkdir -p "$cache/layers" "$cache/files" "$cache/unpacked" "$cache/buildah-oci"
L="$cache/oci"            # umoci's layout: busybox, multilayer, arm64, bench-layers
B="$cache/buildah-oci"    # buildah's output, one layout per image
M="$cache/multiarch-oci"  # the index and its two images
work=$(mktemp -d "$out/work.XXXXXX")
cleanup() {
  # buildah's overlay storage may leave mounts under the work dir: unmount before removing
  if [ -d "$work" ]; then
    { findmnt -rn -o TARGET | grep -F "$work/" | sort -r | while read -r m; do umount -l "$m"; done; } 2>/dev/null || true
    rm -rf "$work" || true
  fi
}
trap cleanup EXIT
done_() { [ -f "$cache/done.$1" ]; }
mark() { touch "$cache/done.$1"; }
[ -d "$L" ] || run umoci init --layout "$L"
PATHENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---- Python helpers: describe an unpacked rootfs, analyse a layer tar, assemble fixtures.json ------
cat >"$work/fx.py" <<'EOPY'
import glob, hashlib, json, os, stat, subprocess, sys, tarfile

def ftype(m):
    for t, f in (('file', stat.S_ISREG), ('dir', stat.S_ISDIR), ('symlink', stat.S_ISLNK), ('char', stat.S_ISCHR),
                 ('block', stat.S_ISBLK), ('fifo', stat.S_ISFIFO), ('socket', stat.S_ISSOCK)):
        if f(m):
            return t
    return 'unknown'

def describe_one(root, rel):
    p = os.path.join(root, rel.lstrip('/'))
    st = os.lstat(p)
    e = {'path': rel, 'type': ftype(st.st_mode), 'mode': format(stat.S_IMODE(st.st_mode), 'o'),
         'uid': st.st_uid, 'gid': st.st_gid, 'size': st.st_size, 'nlink': st.st_nlink}
    if e['type'] == 'symlink':
        e['target'] = os.readlink(p)
    if e['type'] == 'file':
        h = hashlib.sha256()
        with open(p, 'rb') as f:
            for b in iter(lambda: f.read(1 << 20), b''):
                h.update(b)
        e['sha256'] = h.hexdigest()
    if e['type'] in ('file', 'dir'):
        xs = {}
        for n in sorted(os.listxattr(p, follow_symlinks=False)):
            if n.startswith('trusted.') or n == 'security.selinux':
                continue
            xs[n] = os.getxattr(p, n, follow_symlinks=False).hex()
        if xs:
            e['xattrs'] = xs
        if 'security.capability' in xs:
            out = subprocess.run(['getcap', p], capture_output=True, text=True).stdout.strip()
            e['capability'] = out[len(p):].strip().lstrip('=').strip() if out.startswith(p) else out
    return e

def describe(root, outfile, *specs):
    """fileCount: entries under the rootfs (not counting "/"); files: the paths asked for, and all
    of a directory's contents for a spec "/dir/**"."""
    count = sum(len(ds) + len(fs) for _, ds, fs in os.walk(root))
    files = []
    for s in specs:
        if s.endswith('/**'):
            base = s[:-3]
            files.append(describe_one(root, base))
            sub = []
            for d, ds, fs in os.walk(os.path.join(root, base.lstrip('/'))):
                for n in ds + fs:
                    sub.append('/' + os.path.relpath(os.path.join(d, n), root))
            files += [describe_one(root, r) for r in sorted(sub)]
        elif os.path.lexists(os.path.join(root, s.lstrip('/'))):
            files.append(describe_one(root, s))
    json.dump({'fileCount': count, 'files': files}, open(outfile, 'w'), indent=1)

def layer(blob, outfile):
    names, wh, hard = [], [], {}
    with tarfile.open(blob, 'r:*') as t:
        for m in t:
            n = m.name[2:] if m.name.startswith('./') else m.name
            if m.isdir() and not n.endswith('/'):
                n += '/'
            names.append(n)
            if os.path.basename(n.rstrip('/')).startswith('.wh.'):
                wh.append(n)
            if m.islnk():
                hard[n] = m.linkname
    r = {'entryCount': len(names), 'whiteouts': wh}
    if hard:
        r['hardlinks'] = hard
    if len(names) <= 100:
        r['entries'] = names
    json.dump(r, open(outfile, 'w'))

def skopeo(*args):
    return subprocess.run(['skopeo', 'inspect', '--tls-verify=false', *args], check=True, capture_output=True).stdout

def find_blob(cache, hexd):
    for p in glob.glob(os.path.join(cache, '**', 'blobs', 'sha256', hexd), recursive=True):
        return p
    return None

def layer_facts(cache, digest):
    hexd = digest.split(':', 1)[1]
    f = os.path.join(cache, 'layers', hexd + '.json')
    if not os.path.exists(f):
        b = find_blob(cache, hexd)
        if not b:
            return {}
        layer(b, f)
    return json.load(open(f))

def image(cache, spec):
    ref = spec['ref']
    raw = skopeo('--raw', 'docker://' + ref)
    man = json.loads(raw)
    repo_tag = ref.split('/', 1)[1]
    repo, tag = repo_tag.rsplit(':', 1)
    # umoci leaves the optional mediaType field out of its manifests: infer it, and say so
    mt = man.get('mediaType') or ('application/vnd.oci.image.index.v1+json' if 'manifests' in man
                                  else 'application/vnd.oci.image.manifest.v1+json')
    img = {'ref': ref, 'repository': repo, 'tag': tag, 'producer': spec['producer'], 'mediaType': mt,
           'mediaTypeInManifest': 'mediaType' in man, 'digest': 'sha256:' + hashlib.sha256(raw).hexdigest(),
           'size': len(raw)}
    if 'manifests' in man:
        img['manifests'] = [{'digest': d['digest'], 'mediaType': d['mediaType'], 'size': d['size'],
                             'platform': d.get('platform', {})} for d in man['manifests']]
        return img
    cfg = json.loads(skopeo('--config', 'docker://' + ref))
    diff = cfg['rootfs']['diff_ids']
    img['configDigest'] = man['config']['digest']
    img['diffIds'] = diff
    img['os'] = cfg.get('os')
    img['architecture'] = cfg.get('architecture')
    if cfg.get('variant'):
        img['variant'] = cfg['variant']
    c = cfg.get('config') or {}
    img['config'] = {k: c[k] for k in ('Cmd', 'Entrypoint', 'Env', 'User', 'WorkingDir', 'Labels') if c.get(k)}
    layers, styles = [], set()
    for d, di in zip(man['layers'], diff):
        facts = layer_facts(cache, d['digest'])
        for w in facts.get('whiteouts', []):
            styles.add('opaque' if w.endswith('.wh..wh..opq') else 'per-file')
        layers.append({'digest': d['digest'], 'mediaType': d['mediaType'], 'size': d['size'], 'diffId': di, **facts})
    img['layers'] = layers
    img['whiteoutStyle'] = 'none' if not styles else styles.pop() if len(styles) == 1 else 'both'
    if spec.get('files') and os.path.exists(spec['files']):
        img.update(json.load(open(spec['files'])))
    return img

def assemble(cache, registry, specfile, outfile, extra):
    specs = json.load(open(specfile))
    fx = {'version': 2, 'registry': registry}
    fx.update(json.loads(extra))
    images = {}
    for name, spec in specs.items():
        images[name] = image(cache, spec)
        fx[name] = spec['ref']
    fx['images'] = images
    tmp = outfile + '.tmp'
    json.dump(fx, open(tmp, 'w'), indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, outfile)

if __name__ == '__main__':
    {'describe': describe, 'layer': layer, 'assemble': assemble}[sys.argv[1]](*sys.argv[2:])
EOPY
fx() { python3 "$work/fx.py" "$@" >>"$log" 2>&1 || die "fx.py $1"; }

# umoci: unpack TAG into BUNDLE (as root: owners are kept)
unpack() { rm -rf "$2"; run umoci unpack --image "$L:$1" "$2"; }
# umoci: add one layer from BUNDLE's changes onto TAG (a new tag starts from the bundle's image)
repack() { run umoci repack --refresh-bundle --image "$L:$1" "$2"; }
fresh() { umoci rm --image "$L:$1" >>"$log" 2>&1 || true; rm -f "$cache/done.$1"; }
push() { # TAG-or-SRC REF [skopeo options]
  local src=$1 ref=$2; shift 2
  case "$src" in *:*) ;; *) src="oci:$L:$src" ;; esac
  run skopeo copy -q --dest-tls-verify=false "$@" "$src" "docker://$reg/$ref"
}
# describe what umoci unpacks from TAG (LAYOUT:TAG) into files/NAME.json; keep the rootfs when asked
describe() { # NAME IMAGE KEEP SPEC...
  local name=$1 img=$2 keep=$3; shift 3
  local dir="$work/describe-$name"
  [ "$keep" = keep ] && dir="$cache/unpacked/$name"
  rm -rf "$dir"
  run umoci unpack --image "$img" "$dir"
  fx describe "$dir/rootfs" "$cache/files/$name.json" "$@"
  if [ "$keep" = keep ]; then chmod a+rx "$dir"; else rm -rf "$dir"; fi
}

# ---- 1. busybox -------------------------------------------------------------------------------------
busybox_rootfs() {
  local r=$1 a
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/home/app"
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/home/app:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'staff:x:50:app' 'app:x:1000:' 'nogroup:x:65534:' >"$r/etc/group"
  chmod 0755 "$r/bin" "$r/etc" "$r/root" "$r/home"
  chmod 0700 "$r/root"
  chmod 1777 "$r/tmp"
  chown 1000:1000 "$r/home/app"
}
if ! done_ busybox; then
  step "build busybox (umoci)"
  fresh busybox
  run umoci new --image "$L:busybox"
  unpack busybox "$work/bb"
  busybox_rootfs "$work/bb/rootfs"
  repack busybox "$work/bb"
  run umoci config --image "$L:busybox" --os linux --architecture amd64 --config.cmd sh --config.env "$PATHENV" \
    --config.label org.skiff.fixture=busybox
  rm -rf "$work/bb"
  describe busybox "$L:busybox" keep /bin/busybox /bin/sh /bin/ls /etc/passwd /etc/group /tmp /root /home/app
  mark busybox
fi
step "push busybox:latest, busybox:v2s2, other/busybox:1"
push busybox busybox:latest
push busybox busybox:v2s2 --format v2s2
push busybox other/busybox:1

specs="$work/specs.json"
echo '{}' >"$specs"
spec() { # NAME REF PRODUCER [FILESJSON]
  local f=${4:-}
  jq --arg n "$1" --arg r "$reg/$2" --arg p "$3" --arg f "$f" '.[$n] = {ref: $r, producer: $p, files: $f}' "$specs" >"$specs.new"
  mv "$specs.new" "$specs"
}
spec busybox busybox:latest umoci "$cache/files/busybox.json"
spec busyboxV2s2 busybox:v2s2 "umoci + skopeo copy --format v2s2" "$cache/files/busybox.json"
spec otherBusybox other/busybox:1 umoci "$cache/files/busybox.json"
extra=$(jq -n --arg c "$cache" '{unpacked: {busybox: "\($c)/unpacked/busybox/rootfs"}}')

if [ "$only" != busybox ]; then
# ---- 2. multilayer ------------------------------------------------------------------------------------
if ! done_ multilayer; then
  step "build multilayer (umoci, 5 layers)"
  fresh multilayer
  unpack busybox "$work/ml"
  r="$work/ml/rootfs"
  # layer 2: directories and files with varied modes and owners
  mkdir -p "$r/data/sub/deeper" "$r/data/sticky" "$r/data/private-dir" "$r/data/gone-dir/x" "$r/data/opaque"
  echo secret >"$r/data/private"; chmod 0600 "$r/data/private"
  printf '#!/bin/sh\necho hello from exec\n' >"$r/data/exec"; chmod 0755 "$r/data/exec"
  cp /bin/busybox "$r/data/suid"; chmod 4755 "$r/data/suid"
  cp /bin/busybox "$r/data/sgid"; chgrp 50 "$r/data/sgid"; chmod 2755 "$r/data/sgid"
  chmod 1777 "$r/data/sticky"
  chmod 0700 "$r/data/private-dir"; chown 1000:1000 "$r/data/private-dir"; echo mine >"$r/data/private-dir/mine"; chown 1000:1000 "$r/data/private-dir/mine"
  echo owned >"$r/data/owned"; chown 1000:1000 "$r/data/owned"
  echo nobody >"$r/data/nobody"; chown 65534:65534 "$r/data/nobody"
  : >"$r/data/empty"
  echo deep >"$r/data/sub/deeper/file"
  echo lower >"$r/data/opaque/lower-only"; echo keep >"$r/data/opaque/both"
  echo doomed >"$r/data/doomed"; echo x >"$r/data/gone-dir/x/y"
  repack multilayer "$work/ml"
  # layer 3: hard links, symlinks, an xattr, file capabilities, a long (PAX) name
  echo linked >"$r/data/hard1"; ln "$r/data/hard1" "$r/data/hard2"
  ln -s ../data/owned "$r/data/rel-link"; ln -s /data/owned "$r/data/abs-link"
  ln -s sub/deeper "$r/data/dir-link"; ln -s /nonexistent "$r/data/dangling"
  echo tagged >"$r/data/xattr-file"
  python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.skiff", b"1")' "$r/data/xattr-file"
  cp /bin/busybox "$r/data/capbin"; setcap cap_net_bind_service+ep "$r/data/capbin"
  long="$r/data/long/$(printf 'd%.0s' {1..60})/$(printf 'n%.0s' {1..120})"
  mkdir -p "$(dirname "$long")"; echo long >"$long"
  repack multilayer "$work/ml"
  # layer 4: delete a file and a directory tree, replace a directory's content (umoci: per-file whiteouts)
  rm "$r/data/doomed"; rm -rf "$r/data/gone-dir"
  rm -rf "$r/data/opaque"; mkdir "$r/data/opaque"; echo upper >"$r/data/opaque/both"; echo new >"$r/data/opaque/upper-only"
  repack multilayer "$work/ml"
  # layer 5: metadata only: a mode and an owner change
  chmod 0640 "$r/data/owned"; chown 0:50 "$r/data/nobody"
  repack multilayer "$work/ml"
  run umoci config --image "$L:multilayer" --os linux --architecture amd64 --config.cmd sh --config.workingdir /data \
    --config.user app --config.env "$PATHENV" --config.env FIXTURE=multilayer --config.label org.skiff.fixture=multilayer
  rm -rf "$work/ml"
  describe multilayer "$L:multilayer" keep '/data/**' /bin/busybox /etc/passwd
  # /data as umoci unpacked it, in the format of `stat -c` inside a container
  (cd "$cache/unpacked/multilayer/rootfs/data" && find . | LC_ALL=C sort | while read -r f; do stat -c '%n %F %a %u:%g %h' "$f"; done) \
    >"$cache/multilayer-data.list"
  mark multilayer
fi
step "push multilayer:latest"
push multilayer multilayer:latest
spec multilayer multilayer:latest umoci "$cache/files/multilayer.json"

# ---- 3. opaque: a real overlay opaque directory, as buildah (containers/storage overlay) writes it ----
if ! done_ opaque; then
  step "build opaque (buildah, overlay driver)"
  rm -rf "$B/opaque"
  # overlay is what writes .wh..wh..opq; where it cannot work (OUTDIR on overlayfs...) fall back to vfs,
  # which writes per-file whiteouts (fixtures.json then says whiteoutStyle "per-file")
  driver=overlay
  bs=(buildah --root "$work/buildah-ovl/root" --runroot "$work/buildah-ovl/run" --storage-driver overlay)
  if ! c=$("${bs[@]}" from --name opaque-work -q "oci:$L:busybox" 2>>"$log"); then
    echo "fixtures: warning: buildah's overlay driver failed here, using vfs (no opaque whiteout)" >&2
    driver=vfs
    bs=(buildah --root "$work/buildah-vfs1/root" --runroot "$work/buildah-vfs1/run" --storage-driver vfs)
    c=$("${bs[@]}" from --name opaque-work -q "oci:$L:busybox" 2>>"$log") || die "buildah from (vfs)"
  fi
  echo "$driver" >"$cache/opaque.driver"
  m=$("${bs[@]}" mount "$c" 2>>"$log") || die "buildah mount"
  mkdir -p "$m/data"
  # delete a lower file (.wh.) and replace /etc with fresh content (.wh..wh..opq)
  rm "$m/bin/vi"
  cp "$m/etc/passwd" "$m/etc/group" "$work/"
  rm -rf "$m/etc"; mkdir "$m/etc"; cp "$work/passwd" "$work/group" "$m/etc/"; echo replaced >"$m/etc/marker"
  echo opaque >"$m/data/added"
  run "${bs[@]}" umount "$c"
  run "${bs[@]}" config --cmd sh --label org.skiff.fixture=opaque "$c"
  run "${bs[@]}" commit -q --format oci "$c" skiff-fixture-opaque
  run "${bs[@]}" push -q skiff-fixture-opaque "oci:$B/opaque:latest"
  run "${bs[@]}" rm -a
  run "${bs[@]}" rmi -a -f
  describe opaque "$B/opaque:latest" drop '/etc/**' /bin/vi /data/added
  mark opaque
fi
step "push opaque:latest"
push "oci:$B/opaque:latest" opaque:latest
spec opaque opaque:latest "buildah ($(cat "$cache/opaque.driver"))" "$cache/files/opaque.json"

# ---- 4. multiarch: an OCI index of linux/amd64 (busybox) and linux/arm64/v8 (tiny) -------------------
if ! done_ multiarch; then
  step "build multiarch (umoci + OCI index)"
  fresh arm64
  rm -rf "$M"
  run umoci new --image "$L:arm64"
  unpack arm64 "$work/arm"
  echo arm64 >"$work/arm/rootfs/ARCH"
  repack arm64 "$work/arm"
  run umoci config --image "$L:arm64" --os linux --architecture arm64 --config.cmd /ARCH
  rm -rf "$work/arm"
  run skopeo copy -q "oci:$L:busybox" "oci:$M:amd64"
  run skopeo copy -q "oci:$L:arm64" "oci:$M:arm64"
  desc() { jq -c --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | {mediaType, digest, size}' "$M/index.json"; }
  amd=$(desc amd64); arm=$(desc arm64)
  [ -n "$amd" ] && [ -n "$arm" ] || die "multiarch: child manifests missing in $M/index.json"
  jq -n --argjson a "$amd" --argjson b "$arm" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [ ($a + {platform: {architecture: "amd64", os: "linux"}}),
                 ($b + {platform: {architecture: "arm64", os: "linux", variant: "v8"}}) ]}' >"$work/index.json"
  idx=$(sha256sum "$work/index.json" | cut -d' ' -f1)
  cp "$work/index.json" "$M/blobs/sha256/$idx"
  jq --arg d "sha256:$idx" --argjson s "$(stat -c %s "$work/index.json")" \
    '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                     annotations: {"org.opencontainers.image.ref.name": "latest"}}]' "$M/index.json" >"$work/layout-index.json"
  cp "$work/layout-index.json" "$M/index.json"
  mark multiarch
fi
step "push multiarch:latest (skopeo copy --all)"
push "oci:$M:latest" multiarch:latest --all
spec multiarch multiarch:latest "umoci + jq (index) + skopeo copy --all"

# ---- 5. debian:bookworm minbase ---------------------------------------------------------------------
deb_tar="$out/debootstrap/bookworm-minbase.tar"
if [ ! -f "$deb_tar" ]; then
  mirror=${DEBIAN_MIRROR:-$(python3 - <<'EOP'
import glob, re
uris = []
for f in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in re.split(r'\n\s*\n', open(f).read()):
        kv = dict(re.findall(r'^(\w[\w-]*):\s*(.*)$', stanza, re.M))
        if 'deb' in kv.get('Types', '').split() and 'bookworm' in kv.get('Suites', '').split() \
                and kv.get('Enabled', 'yes') != 'no':
            uris += kv.get('URIs', '').split()
for f in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
    try:
        lines = open(f).read().splitlines()
    except OSError:
        continue
    for l in lines:
        m = re.match(r'^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s', l)
        if m:
            uris.append(m.group(1))
print(next((u for u in uris if u.startswith('http')), 'http://deb.debian.org/debian'))
EOP
)}
  step "debootstrap --variant=minbase bookworm from $mirror (minutes; cached afterwards)"
  mkdir -p "$out/debootstrap"
  rm -rf "$out/debootstrap/root"
  run debootstrap --variant=minbase bookworm "$out/debootstrap/root" "$mirror"
  root="$out/debootstrap/root"
  # what a container image does not carry: the host's resolver and name, apt's caches, device nodes
  rm -f "$root/etc/resolv.conf" "$root/etc/hostname" "$root/var/log/bootstrap.log"
  rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/dev/* "$root"/proc/* "$root"/sys/*
  run tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf "$deb_tar.tmp" .
  mv "$deb_tar.tmp" "$deb_tar"
  rm -rf "$root"
fi
if ! done_ debian; then
  step "build debian:bookworm (buildah from scratch + add + commit)"
  rm -rf "$B/debian"
  bs=(buildah --root "$work/buildah-vfs/root" --runroot "$work/buildah-vfs/run" --storage-driver vfs)
  c=$("${bs[@]}" from --name debian-work -q scratch 2>>"$log") || die "buildah from scratch"
  run "${bs[@]}" add "$c" "$deb_tar" /
  run "${bs[@]}" config --os linux --arch amd64 --cmd bash --env "$PATHENV" --label org.skiff.fixture=debian "$c"
  run "${bs[@]}" commit -q --format oci "$c" skiff-fixture-debian
  run "${bs[@]}" push -q skiff-fixture-debian "oci:$B/debian:bookworm"
  run "${bs[@]}" rm -a
  run "${bs[@]}" rmi -a -f
  describe debian "$B/debian:bookworm" drop /etc/debian_version /etc/os-release /bin /usr/bin/bash /usr/bin/dpkg \
    /usr/bin/apt-get /usr/bin/passwd /usr/bin/su /var/lib/dpkg/status /tmp /root
  mark debian
fi
step "push debian:bookworm"
push "oci:$B/debian:bookworm" debian:bookworm
spec debian debian:bookworm "debootstrap + buildah" "$cache/files/debian.json"

# ---- 6. bench-layers: busybox + 8 layers of a few MB each -------------------------------------------
if ! done_ bench-layers; then
  step "build bench-layers (umoci, 9 layers)"
  fresh bench-layers
  unpack busybox "$work/bench"
  # 8 chunks, each ~4 MB of shared libraries and ~1.5 MB of docs (many small files), fixed order
  python3 - "$work/chunks" <<'EOP'
import os, sys
out = sys.argv[1]
def files(top, pred, maxdepth=None):
    r = []
    for d, ds, fs in os.walk(top):
        if maxdepth is not None and d.count('/') - top.count('/') >= maxdepth:
            ds[:] = []
        ds.sort()
        for f in sorted(fs):
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p) and pred(f) and os.path.getsize(p) < (3 << 20):
                r.append(p)
    return r
libs = files('/usr/lib/x86_64-linux-gnu', lambda f: '.so' in f, maxdepth=1)
docs = files('/usr/share/doc', lambda f: True)
def take(lst, budget):
    chunk, n = [], 0
    while lst and n < budget:
        p = lst.pop(0); chunk.append(p); n += os.path.getsize(p)
    return chunk
os.makedirs(out, exist_ok=True)
for i in range(8):
    with open(os.path.join(out, str(i)), 'w') as f:
        f.write('\0'.join(take(libs, 4 << 20) + take(docs, 3 << 19)))
EOP
  for i in 0 1 2 3 4 5 6 7; do
    tar -C / --null -T "$work/chunks/$i" -cf - 2>>"$log" | tar -C "$work/bench/rootfs" -xf - || die "bench chunk $i"
    repack bench-layers "$work/bench"
  done
  run umoci config --image "$L:bench-layers" --os linux --architecture amd64 --config.cmd sh --config.env "$PATHENV" \
    --config.label org.skiff.fixture=bench-layers
  rm -rf "$work/bench"
  describe bench-layers "$L:bench-layers" drop /bin/busybox
  mark bench-layers
fi
step "push bench-layers:latest"
push bench-layers bench-layers:latest
spec benchLayers bench-layers:latest umoci "$cache/files/bench-layers.json"

# ---- 7. skiff's package dependencies as a local apt repository --------------------------------------
# test/e2e/deb.test.ts installs skiff's .deb into a debian:bookworm container without a network: apt takes
# what the package depends on (contrib/debian/depends, with everything those need) from this directory.
depends=$(sed 's/([^)]*)//g; s/,/ /g' "$(dirname "$0")/../contrib/debian/depends")
debs="$out/debs-$(echo "$depends" | sha256sum | cut -c1-12)"
if [ ! -f "$debs/Packages" ]; then
  step "apt-get download the closure of $(echo $depends) -> $debs"
  rm -rf "$debs.tmp" && mkdir -p "$debs.tmp"
  # shellcheck disable=SC2086 # the package names are words
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances $depends 2>>"$log" | grep -v '^[ <]' | sort -u) || die "apt-cache depends $depends"
  # shellcheck disable=SC2086
  (cd "$debs.tmp" && apt-get download $pkgs) >>"$log" 2>&1 || die "apt-get download $pkgs"
  (cd "$debs.tmp" && dpkg-scanpackages -m . >Packages) 2>>"$log" || die "dpkg-scanpackages $debs.tmp"
  rm -rf "$debs" && mv "$debs.tmp" "$debs"
fi

extra=$(jq -n --arg c "$cache" --arg d "$debs" '{
  multilayerDataList: "\($c)/multilayer-data.list", debs: $d,
  unpacked: {busybox: "\($c)/unpacked/busybox/rootfs", multilayer: "\($c)/unpacked/multilayer/rootfs"}}')
fi # only != busybox

step "describe (skopeo inspect) -> $json"
fx assemble "$cache" "$reg" "$specs" "$json" "$extra"
# the rootless test user reads these
chmod a+rx "$out" "$cache" "$cache/unpacked"
chmod a+r "$cache"/multilayer-data.list 2>/dev/null || true
step "done"
