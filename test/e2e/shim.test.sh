#!/usr/bin/env bash
# shim.test.sh — smoke test of the shim alone (no CLI, no registry). Run as root:
#   bash test/e2e/shim.test.sh [ROOTLESS_USER]
# Builds a busybox rootfs, writes OCI bundles by hand and checks `run`, `exec` and `unshare`:
# exit codes and messages, capabilities, id maps, hostname, /dev, Docker's seccomp profile,
# a pty, signal forwarding, and that nothing (mount, process) is left after a SIGKILL of the
# shim. With ROOTLESS_USER (who needs a range in /etc/subuid and /etc/subgid) the rootless
# checks run as that user. Also the device cgroup policy (v1 list and v2 BPF program, each alone) and
# its failures (no CAP_SYS_ADMIN: one line, no cgroup left). Prints "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SHIM=${SKIFF_SHIM:-$REPO/addon/build/Release/skiff-shim}
RUSER=${1:-}
[ "$(id -u)" = 0 ] || { echo "Error: run as root" >&2; exit 1; }
[ -x "$SHIM" ] || { echo "Error: $SHIM not built" >&2; exit 1; }
BUSYBOX=$(command -v busybox) || { echo "Error: busybox (busybox-static) is needed" >&2; exit 1; }
T=$(mktemp -d /tmp/skiff-shim-test.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /'; }
expect() { # NAME WANT GOT
  if [ "$2" = "$3" ]; then ok "$1"; else ko "$1" "want: $2"$'\n'"got:  $3"; fi
}
contains() { # NAME NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then ok "$1"; else ko "$1" "want to contain: $2"$'\n'"got: $3"; fi
}

mkdir -p "$T/rootfs/bin" "$T/rootfs/etc"
cp "$BUSYBOX" "$T/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$T/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$T/rootfs/etc/passwd"
cp "$SHIM" "$T/skiff-shim"
SHIM=$T/skiff-shim

# bundle generator: gen.js DIR [--rootless UID GID] [--userns] [--tty] [--seccomp FILE] [--nnp] [--user U:G] [--rm]
#   [--cgroups DIR,...] [--dev-rules JSON] [--devices JSON] -- ARGS...
cat >"$T/gen.js" <<'EOF'
const fs = require('fs');
const a = process.argv.slice(2), out = a.shift(), T = __dirname;
let rootless = null, tty = false, sec = null, nnp = false, user = [0, 0], rm = false, cgroups = null, devRules = null, devices = null;
while (a.length && a[0] !== '--') {
  const o = a.shift();
  if (o === '--rootless') rootless = [+a.shift(), +a.shift()];
  else if (o === '--userns') rootless = [100000, 100000]; // as root, without newuidmap: a user namespace of a subordinate-like range
  else if (o === '--cgroups') cgroups = a.shift().split(',');
  else if (o === '--dev-rules') devRules = JSON.parse(a.shift());
  else if (o === '--devices') devices = JSON.parse(a.shift());
  else if (o === '--tty') tty = true;
  else if (o === '--seccomp') sec = JSON.parse(fs.readFileSync(a.shift()));
  else if (o === '--nnp') nnp = true;
  else if (o === '--user') user = a.shift().split(':').map(Number);
  else if (o === '--rm') rm = true;
  else throw new Error(o);
}
a.shift();
const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const NS = ['nosuid', 'noexec', 'nodev'];
for (const d of ['rootfs', 'upper', 'work']) fs.mkdirSync(`${out}/${d}`, { recursive: true });
fs.writeFileSync(`${out}/hostname`, 'c0ffee\n');
const map = (id) => (id === 100000 ? [{ containerID: 0, hostID: id, size: 65536 }] : [{ containerID: 0, hostID: id, size: 1 }, { containerID: 1, hostID: +process.env.SUBID, size: 65536 }]);
const spec = {
  ociVersion: '1.0.2',
  process: {
    terminal: tty, user: { uid: user[0], gid: user[1] }, args: a, cwd: '/',
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=c0ffee'],
    capabilities: { bounding: caps, effective: user[0] ? [] : caps, permitted: user[0] ? [] : caps, inheritable: [], ambient: [] },
    noNewPrivileges: nnp, rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }],
  },
  root: { path: `${out}/rootfs`, readonly: false },
  hostname: 'c0ffee',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: NS },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: NS },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NS, 'mode=1777', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NS, 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...NS, 'ro'] },
    { destination: '/etc/hostname', type: 'bind', source: `${out}/hostname`, options: ['rbind', 'rprivate'] },
  ],
  linux: {
    namespaces: [...(rootless ? [{ type: 'user' }] : []), { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'network' }],
    ...(rootless ? { uidMappings: map(rootless[0]), gidMappings: map(rootless[1]) } : {}),
    maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    ...(sec ? { seccomp: sec } : {}),
    ...(devRules ? { resources: { devices: devRules } } : {}),
    ...(devices ? { devices } : {}),
  },
  skiff: {
    overlay: { lower: [process.env.LOWER || `${T}/rootfs`], upper: `${out}/upper`, work: `${out}/work`, userxattr: !!rootless },
    exitFile: `${out}/exit.json`, pidFile: `${out}/pid`, idmapHelpers: !!rootless && rootless[0] !== 100000, ...(rm ? { remove: [out] } : {}),
    ...(cgroups ? { cgroups } : {}),
  },
};
fs.writeFileSync(`${out}/config.json`, JSON.stringify(spec));
EOF

# Docker's default profile in OCI form (includes/excludes resolved for Docker's default caps)
cat >"$T/seccomp.js" <<'EOF'
const p = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const m = (p.archMap || []).find((x) => x.architecture === 'SCMP_ARCH_X86_64');
const ok = (c, inc) => {
  if (!c) return true;
  const k = [];
  if (c.caps && c.caps.length) k.push(inc ? c.caps.every((x) => caps.includes(x)) : c.caps.some((x) => caps.includes(x)));
  if (c.arches && c.arches.length) k.push(c.arches.includes('amd64'));
  if (c.minKernel) k.push(true);
  return k.length ? (inc ? k.every(Boolean) : k.some(Boolean)) : inc;
};
const syscalls = (p.syscalls || []).filter((r) => ok(r.includes, true) && !(r.excludes && ok(r.excludes, false)))
  .map((r) => ({ names: r.names || [r.name], action: r.action, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), ...(r.args && r.args.length ? { args: r.args } : {}) }));
console.log(JSON.stringify({ defaultAction: p.defaultAction, defaultErrnoRet: p.defaultErrnoRet, architectures: m ? [m.architecture, ...m.subArchitectures] : ['SCMP_ARCH_X86_64'], syscalls }));
EOF
PROFILE=${SKIFF_SECCOMP_PROFILE:-$REPO/../shared/conformance/seccomp/default.json}
[ -f "$PROFILE" ] || PROFILE=/usr/share/containers/seccomp.json
node "$T/seccomp.js" "$PROFILE" >"$T/seccomp.json"
chmod -R a+rX "$T"

# run B [gen args] -- ARGS: prints the container's output, then "rc=N" (bundles under $W)
W=$T
run() {
  local b=$W/$1; shift
  rm -rf "$b"; node "$T/gen.js" "$b" "$@" || return
  "$SHIM" run "$b" 2>&1; echo "rc=$?"
}

echo "# rootful"
# other tests may mount things meanwhile: look for ours (anything under $T, or a new mount namespace's view)
ours() { grep -F "$T" /proc/self/mountinfo; }
out=$(run b1 -- sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; cat /proc/self/uid_map; hostname; echo pid=$$; ulimit -n; ls /dev | tr "\n" " "')
contains "caps are Docker's" $'CapEff:\t00000000a80425fb' "$out"
contains "bounding set" $'CapBnd:\t00000000a80425fb' "$out"
contains "no seccomp without a profile" $'Seccomp:\t0' "$out"
contains "no user namespace" "0          0 4294967295" "$out"
contains "hostname" "c0ffee" "$out"
contains "the command is pid 1" "pid=1" "$out"
contains "rlimit clamped to the hard limit" "$(ulimit -Hn)" "$out"
contains "/dev nodes and links" "console" "$(run b1 --tty -- ls /dev </dev/null)"
contains "/dev nodes and links" "full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" "$out"
expect "exit code" "rc=3" "$(run b2 -- sh -c 'exit 3')"
expect "missing command" $'Error: exec: "nosuchcmd": executable file not found in $PATH\nrc=127' "$(run b2 -- nosuchcmd)"
contains "exit file" '"exitCode":127,"signal":null' "$(cat "$T/b2/exit.json")"
expect "missing path" $'Error: exec: "/nope": stat /nope: no such file or directory\nrc=127' "$(run b2 -- /nope)"
expect "not executable" $'Error: exec: "/etc/passwd": permission denied\nrc=126' "$(run b2 -- /etc/passwd)"
out=$(run b3 --seccomp "$T/seccomp.json" -- sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -U true; echo unshare=$?')
contains "seccomp loaded" $'Seccomp:\t2' "$out"
contains "unshare denied by seccomp" "unshare=1" "$out"
out=$(run b3 --seccomp "$T/seccomp.json" --nnp --user 1000:1000 -- sh -c 'id -u; grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status')
contains "user switch" "1000" "$out"
contains "no_new_privs" $'NoNewPrivs:\t1' "$out"
contains "non-root has no effective caps" $'CapEff:\t0000000000000000' "$out"
if command -v script >/dev/null; then
  node "$T/gen.js" "$T/b4" --tty -- sh -c 'tty; stty size; exit 4'
  out=$(echo | script -qec "stty cols 99 rows 11; $SHIM run $T/b4" /dev/null 2>&1)
  contains "pty" "/dev/pts/0" "$out"
  contains "window size" "11 99" "$out"
  expect "pty exit code" '"exitCode":4' "$(grep -o '"exitCode":4' "$T/b4/exit.json")"
fi
node "$T/gen.js" "$T/b5" -- sh -c 'trap "exit 5" TERM; while :; do sleep 0.05; done'
"$SHIM" run "$T/b5" & sp=$!
for _ in $(seq 50); do [ -s "$T/b5/pid" ] && break; sleep 0.02; done
sleep 0.1; kill -TERM $sp; wait $sp
expect "SIGTERM forwarded" 5 $?
node "$T/gen.js" "$T/b6" -- sleep 100
"$SHIM" run "$T/b6" & sp=$!
for _ in $(seq 50); do [ -s "$T/b6/pid" ] && break; sleep 0.02; done
cpid=$(cat "$T/b6/pid")
node -e 'const s=require(process.argv[1]); s.process.args=["sh","-c","cat /proc/1/comm; exit 6"]; console.log(JSON.stringify(s.process))' "$T/b6/config.json" >"$T/p.json"
out=$("$SHIM" exec "$cpid" "$T/p.json" 2>&1; echo "rc=$?")
expect "exec joins the container" $'sleep\nrc=6' "$out"
kill -KILL $sp; wait $sp 2>/dev/null
for _ in $(seq 100); do [ -d "/proc/$cpid" ] || break; sleep 0.02; done
if [ -d "/proc/$cpid" ]; then ko "container dies with the shim"; else ok "container dies with the shim"; fi
expect "no mount left on the host" "" "$(ours)"

# The device policy (linux.resources.devices) on one kind of cgroup at a time (skiff.cgroups names only
# that one): the container stays in this test's cgroup of the other kind (the host's, which allows all),
# so only the program (v2) or the v1 list can refuse.
V2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
V1DEV=$(findmnt -n -t cgroup -o TARGET,OPTIONS | awk '$2 ~ /(^|,)devices(,|$)/ {print $1; exit}')
V1FRZ=$(findmnt -n -t cgroup -o TARGET,OPTIONS | awk '$2 ~ /(^|,)freezer(,|$)/ {print $1; exit}')
RULES='[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","access":"m"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":5,"access":"r"},{"allow":true,"type":"c","major":136,"access":"rwm"},{"allow":true,"type":"c","major":5,"minor":2,"access":"rwm"}]'
DEVS='[{"path":"/dev/blk","type":"b","major":7,"minor":0,"fileMode":438,"uid":0,"gid":0}]'
PROBE='head -c 1 /dev/blk; echo "blk $?"; echo x >/dev/null; echo "null $?"; head -c 1 /dev/zero | wc -c; echo x >/dev/zero; echo "zero-w $?"'
for kind in v2 v1; do
  if [ $kind = v2 ]; then base=$V2; else base=$V1DEV; fi
  [ -n "$base" ] || { echo "# no $kind devices cgroup here: skipped"; continue; }
  cg=$base/skiff-shim-test-$$
  out=$(run d$kind --cgroups "$cg" --dev-rules "$RULES" --devices "$DEVS" -- sh -c "$PROBE" 2>&1)
  expect "device policy ($kind): denied, allowed, read-only" \
    "head: /dev/blk: Operation not permitted"$'\n'"blk 1"$'\n'"null 0"$'\n'"1"$'\n'"sh: can't create /dev/zero: Operation not permitted"$'\n'"zero-w 1"$'\n'"rc=0" "$out"
  if [ -d "$cg" ]; then ko "device policy ($kind): cgroup removed at exit"; rmdir "$cg"; else ok "device policy ($kind): cgroup removed at exit"; fi
done
# failures: one line, exit 125, no cgroup left. Without CAP_SYS_ADMIN/CAP_BPF (a user namespace lets the
# shim get that far) the kernel refuses the program and the v1 rules; a policy with no cgroup to go in.
for kind in v2 v1; do
  if [ $kind = v2 ]; then base=$V2 want="load the device cgroup program for"; else base=$V1DEV want="write \"a\" to"; fi
  [ -n "$base" ] || continue
  cg=$base/skiff-shim-test-$$
  node "$T/gen.js" "$T/f$kind" --userns --cgroups "$cg" --dev-rules "$RULES" -- true
  out=$(setpriv --bounding-set -sys_admin,-bpf "$SHIM" run "$T/f$kind" 2>&1; echo "rc=$?")
  contains "device policy ($kind) refused: one Error line" "Error: $want $cg" "$out"
  expect "device policy ($kind) refused: exit 125, one line" "2 rc=125" "$(echo "$out" | wc -l) $(echo "$out" | tail -1)"
  if [ -d "$cg" ]; then ko "device policy ($kind) refused: no cgroup left"; rmdir "$cg"; else ok "device policy ($kind) refused: no cgroup left"; fi
done
if [ -n "$V1FRZ" ]; then
  cg=$V1FRZ/skiff-shim-test-$$
  out=$(run fz --cgroups "$cg" --dev-rules "$RULES" -- true 2>&1)
  expect "a device policy needs a devices or v2 cgroup" "Error: no cgroup to apply the container's device policy in: skiff.cgroups holds neither a v1 devices cgroup nor a cgroup v2 group"$'\n'"rc=125" "$out"
  if [ -d "$cg" ]; then ko "no cgroup left (freezer)"; rmdir "$cg"; else ok "no cgroup left (freezer)"; fi
fi

if [ -n "$RUSER" ]; then
  echo "# rootless ($RUSER)"
  ru=$(id -u "$RUSER") rg=$(id -g "$RUSER")
  SUBID=$(awk -F: -v u="$RUSER" '$1 == u {print $2}' /etc/subuid)
  mkdir "$T/u" && cp -a "$T/rootfs" "$T/u/rootfs" && chown -R "$RUSER:" "$T/u" # the user's image layer
  r() { su "$RUSER" -s /bin/bash -c "export SUBID=$SUBID LOWER=$T/u/rootfs; $(declare -f run); T=$T W=$T/u SHIM=$SHIM; run $(printf '%q ' "$@")"; }
  out=$(r r1 --rootless "$ru" "$rg" -- sh -c 'cat /proc/self/uid_map; id -u; grep -E "^CapEff:" /proc/self/status; touch /f; chown 1000 /f; ls -n /f')
  contains "uid map" "1     $SUBID      65536" "$out"
  contains "root in the container" $'0\nCapEff:\t00000000a80425fb' "$out"
  contains "subordinate ids usable" " 1000 " "$out"
  out=$(r r2 --rootless "$ru" "$rg" --seccomp "$T/seccomp.json" -- sh -c 'grep "^Seccomp:" /proc/self/status; exit 3')
  contains "rootless seccomp" $'Seccomp:\t2' "$out"
  contains "rootless exit code" "rc=3" "$out"
  r r3 --rootless "$ru" "$rg" --rm -- sh -c 'mkdir -p /d/e && chown -R 1000 /d && chmod 0 /d/e' >/dev/null
  if [ -e "$T/u/r3" ]; then ko "--rm removes files of subordinate ids"; else ok "--rm removes files of subordinate ids"; fi
  out=$(su "$RUSER" -s /bin/bash -c "$SHIM unshare 0:$ru:1,1:$SUBID:65536 0:$rg:1,1:$SUBID:65536 -- sh -c 'echo \$_SKIFF_IN_USERNS; id -u; exit 7'; echo rc=\$?" 2>&1)
  expect "unshare" $'1\n0\nrc=7' "$out"
  expect "no mount left on the host (rootless)" "" "$(ours)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
