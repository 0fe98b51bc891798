#!/usr/bin/env bash
# What each part of container networking costs here, to decide what runs natively in the shim and
# what uses the field's helpers (docs/design/networking.md, bench/README.md). As root:
#   a) netavark setup/teardown of one container on a bridge, without and with a published port
#   b) the shim's native setup/teardown (`skiff-shim net`, netlink): first container of a network
#      (bridge + nf_tables table made) and a later one (bridge there), without and with a port
#   c) firewall rules through the nft and iptables executables, for comparison with b)'s netlink
#   d) aardvark-dns: first container of a DNS network (start, wait for its listener), a later one (SIGHUP)
#   e) rootless: pasta and slirp4netns until the namespace is configured (as RUSER, default skiffci)
# Prints medians of RUNS (default 10) per step. Only addresses the script makes are used (10.214.0.0/16,
# bridges skiff-bench0 and skbenchnv0); nothing is sent off the machine. Usage: bash bench/net.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-10}
RUSER=${RUSER:-skiffci}
SHIM="$REPO/dist/skiff-shim"
NETAVARK=${NETAVARK:-/usr/lib/podman/netavark}
AARDVARK=${AARDVARK:-/usr/lib/podman/aardvark-dns}
[ "$(id -u)" = 0 ] || { echo "Error: bench/net.sh runs as root" >&2; exit 1; }
[ -x "$SHIM" ] || { echo "Error: $SHIM missing: make build first" >&2; exit 1; }
T=$(mktemp -d /tmp/skiff-bench-net.XXXXXX)
chmod 0755 "$T"
NS=(skbench-a skbench-b)
cleanup() {
  set +e
  for n in "${NS[@]}"; do
    [ -f "$T/hold-$n.pid" ] && kill "$(cat "$T/hold-$n.pid")" 2>/dev/null
    ip netns del "$n" 2>/dev/null
  done
  for f in "$T"/*.plan.json; do [ -f "$f" ] && "$SHIM" net teardown "$f" >/dev/null 2>&1; done
  for f in "$T"/nv-*.json; do [ -f "$f" ] && "$NETAVARK" --config "$T/nv" -f "$f" teardown /proc/self/ns/net >/dev/null 2>&1; done
  ip link del skiff-bench0 2>/dev/null; ip link del skbenchnv0 2>/dev/null
  nft delete table ip skbench_cli 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

now() { date +%s%N; }
# stat NAME FILE: median and min of the ms values in FILE
stat() {
  sort -n "$2" | awk -v name="$1" '{v[NR]=$1} END {printf "%-62s median %7.2f ms   min %7.2f ms   (n=%d)\n", name, v[int((NR+1)/2)], v[1], NR}'
}
# timed NAME PREPARE CMD CLEANUP: run CMD RUNS times (PREPARE before, CLEANUP after, not timed)
timed() {
  local name=$1 prep=$2 cmd=$3 clean=$4 f="$T/t.$RANDOM" s e
  : >"$f"
  for _ in $(seq "$RUNS"); do
    eval "$prep"
    s=$(now); eval "$cmd"; e=$(now)
    echo "scale=3; ($e - $s) / 1000000" | bc >>"$f"
    eval "$clean"
  done
  stat "$name" "$f"
}
fresh_ns() { ip netns del "$1" 2>/dev/null || true; ip netns add "$1"; }

# ---- a) netavark ---------------------------------------------------------------------------------
nv_json() { # ID IP PORTS_JSON
  cat <<EOF
{"container_id":"$1","container_name":"bench$1","port_mappings":$3,
 "networks":{"skbench":{"static_ips":["$2"],"aliases":[],"interface_name":"eth0"}},
 "network_info":{"skbench":{"name":"skbench","id":"2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
   "driver":"bridge","network_interface":"skbenchnv0","subnets":[{"subnet":"10.214.9.0/24","gateway":"10.214.9.1"}],
   "ipv6_enabled":false,"internal":false,"dns_enabled":false,"ipam_options":{"driver":"host-local"}}}}
EOF
}
if [ -x "$NETAVARK" ]; then
  echo "== a) netavark $("$NETAVARK" --version 2>/dev/null | awk '{print $2}') (firewall driver: iptables)"
  mkdir -p "$T/nv"
  nv_json 1111111111111111111111111111111111111111111111111111111111111111 10.214.9.2 null >"$T/nv-plain.json"
  nv_json 2222222222222222222222222222222222222222222222222222222222222222 10.214.9.2 \
    '[{"host_ip":"127.0.0.1","container_port":80,"host_port":18380,"range":1,"protocol":"tcp"}]' >"$T/nv-port.json"
  nv() { "$NETAVARK" --config "$T/nv" -f "$T/nv-$1.json" "$2" "/run/netns/${NS[0]}" >/dev/null 2>&1; }
  timed "netavark setup, first container (bridge made)" "fresh_ns ${NS[0]}" "nv plain setup" "nv plain teardown"
  timed "netavark teardown, last container (bridge removed)" "fresh_ns ${NS[0]}; nv plain setup" "nv plain teardown" ":"
  timed "netavark setup with -p 127.0.0.1:18380:80" "fresh_ns ${NS[0]}" "nv port setup" "nv port teardown"
  timed "netavark teardown with the port" "fresh_ns ${NS[0]}; nv port setup" "nv port teardown" ":"
else
  echo "== a) netavark: $NETAVARK missing, skipped"
fi

# ---- b) native (skiff-shim net) ----------------------------------------------------------------
plan() { # NAME ID IP HOSTPORT(or -) DNS(0/1)
  local ports='[]' table='' dns=''
  [ "$4" != - ] && ports="[{\"proto\":\"tcp\",\"hostIp\":\"127.0.0.1\",\"hostPort\":$4,\"hostPortEnd\":$4,\"containerIp\":\"$3\",\"containerPort\":80}]" &&
    table="\"portsTable\":\"skiff_p_$2\","
  [ "$5" = 1 ] && dns="\"dnsDir\":\"$T/dns\","
  cat >"$T/$1.plan.json" <<EOF
{"containerId":"$2","endpoint":"bench","lockFile":"$T/lock","aardvark":"$AARDVARK",$table
 "interfaces":[{"name":"eth0","hostName":"skvb$2","address":"$3/24","defaultRoute":true,"dnsNames":"bench$2",
   "network":{"name":"skbench","bridge":"skiff-bench0","table":"skiff_bench_net",$dns"subnet":"10.214.7.0/24","gateway":"10.214.7.1","internal":false}}],
 "ports":$ports}
EOF
}
plan holder 0000000001 10.214.7.10 - 0
plan plain 0000000002 10.214.7.2 - 0
plan port 0000000003 10.214.7.3 18381 0
plan dnsholder 0000000004 10.214.7.11 - 1
plan dns 0000000005 10.214.7.5 - 1
echo '{"containerId":"0000000009","lockFile":"'"$T"'/lock"}' >"$T/noop.plan.json"
echo "== b) native: skiff-shim net (netlink in the shim; timings include one exec of the shim)"
net() { "$SHIM" net "$@" >/dev/null; }
# netst NAME ARGS...: setup, keeping the status line (its timingsUs: where the time went) in $T/st.NAME
netst() { local n=$1; shift; "$SHIM" net "$@" >>"$T/st.$n"; }
# phases NAME: medians of the shim's own phase timings over the runs of NAME
phases() {
  node -e '
    const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l).timingsUs);
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
    const med = (k) => { const v = runs.map((r) => r[k] ?? 0).sort((a, b) => a - b); return v[Math.floor((v.length - 1) / 2)] / 1000; };
    const tot = runs.map((r) => Object.values(r).reduce((a, b) => a + b, 0)).sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)] / 1000;
    console.log("      in the shim: " + keys.map((k) => `${k} ${med(k).toFixed(2)}`).join(", ") + ` ms; total ${tot.toFixed(2)} ms`);
  ' "$T/st.$1"
}
# a port needs a holder process: --hold with stdin from a fifo we close to release
hold_start() { # PLAN NS
  mkfifo "$T/in-$2"
  ("$SHIM" net setup --hold "$T/$1.plan.json" "/run/netns/$2" <"$T/in-$2" >"$T/out-$2" & echo $! >"$T/hold-$2.pid"; wait) &
  exec 7>"$T/in-$2"
  while [ ! -s "$T/out-$2" ]; do sleep 0.001; done
  cat "$T/out-$2" >>"$T/st.$1"
}
hold_stop() { # NS
  exec 7>&-
  while kill -0 "$(cat "$T/hold-$1.pid")" 2>/dev/null; do sleep 0.001; done
  rm -f "$T/in-$1" "$T/out-$1" "$T/hold-$1.pid"
}
timed "no-op (exec of the shim, parse, open the netns)" "fresh_ns ${NS[0]}" "net setup $T/noop.plan.json /run/netns/${NS[0]}" ":"
timed "setup, first container (bridge + nft table made)" "fresh_ns ${NS[0]}" "netst first setup $T/plain.plan.json /run/netns/${NS[0]}" "net teardown $T/plain.plan.json"
phases first
timed "teardown, last container (veth, bridge, table removed)" "fresh_ns ${NS[0]}; net setup $T/plain.plan.json /run/netns/${NS[0]}" "net teardown $T/plain.plan.json" ":"
fresh_ns "${NS[1]}"
net setup "$T/holder.plan.json" "/run/netns/${NS[1]}" # keeps the bridge for the "later container" rows
timed "setup, later container (bridge there)" "fresh_ns ${NS[0]}" "netst later setup $T/plain.plan.json /run/netns/${NS[0]}" "net teardown $T/plain.plan.json"
phases later
timed "teardown, later container" "fresh_ns ${NS[0]}; net setup $T/plain.plan.json /run/netns/${NS[0]}" "net teardown $T/plain.plan.json" ":"
timed "setup with -p 127.0.0.1:18381:80 (reserve + owner DNAT table)" "fresh_ns ${NS[0]}" "hold_start port ${NS[0]}" "hold_stop ${NS[0]}; net teardown $T/port.plan.json"
phases port
timed "release of the port (holder exits: kernel drops the table)" "fresh_ns ${NS[0]}; hold_start port ${NS[0]}" "hold_stop ${NS[0]}" "net teardown $T/port.plan.json"
net teardown "$T/holder.plan.json"; ip netns del "${NS[1]}"

# ---- c) the same rules through executables ----------------------------------------------------
echo "== c) firewall rules through executables (for comparison with b's netlink batches)"
cat >"$T/net.nft" <<'EOF'
table ip skbench_cli {
  chain postrouting { type nat hook postrouting priority srcnat; ip saddr 10.214.8.0/24 ip daddr != 10.214.8.0/24 masquerade; }
  chain prerouting { type nat hook prerouting priority dstnat; ip daddr 127.0.0.1 tcp dport 18382 dnat to 10.214.8.2:80; }
}
EOF
timed "nft -f (masquerade + one DNAT rule, one table)" ":" "nft -f $T/net.nft" "nft delete table ip skbench_cli"
timed "nft delete table" "nft -f $T/net.nft" "nft delete table ip skbench_cli" ":"
ipt_dnat() { iptables -t nat "$1" OUTPUT -d 127.0.0.1/32 -p tcp --dport 18382 -j DNAT --to-destination 10.214.8.2:80 -m comment --comment skbench; }
timed "iptables -t nat -A (one DNAT rule)" ":" "ipt_dnat -A" "ipt_dnat -D"
timed "iptables -t nat -D (one DNAT rule)" "ipt_dnat -A" "ipt_dnat -D" ":"

# ---- d) aardvark-dns ----------------------------------------------------------------------------
if [ -x "$AARDVARK" ]; then
  echo "== d) aardvark-dns (in b's setup/teardown: entry, start or SIGHUP, wait for the listener)"
  mkdir -p "$T/dns"
  timed "setup, first container of a DNS network (aardvark started)" "fresh_ns ${NS[0]}" "netst dnsfirst setup $T/dns.plan.json /run/netns/${NS[0]}" "net teardown $T/dns.plan.json"
  phases dnsfirst
  timed "teardown, last container (aardvark stopped)" "fresh_ns ${NS[0]}; net setup $T/dns.plan.json /run/netns/${NS[0]}" "net teardown $T/dns.plan.json" ":"
  fresh_ns "${NS[1]}"
  net setup "$T/dnsholder.plan.json" "/run/netns/${NS[1]}"
  timed "setup, later container (entry + SIGHUP)" "fresh_ns ${NS[0]}" "netst dnslater setup $T/dns.plan.json /run/netns/${NS[0]}" "net teardown $T/dns.plan.json"
  phases dnslater
  net teardown "$T/dnsholder.plan.json"; ip netns del "${NS[1]}"
fi

# ---- f) the CLI's part of a start -----------------------------------------------------------------
echo "== f) the CLI's part of a start (in-process, after warm-up): lease under the lock, plan, hosts + resolv.conf"
SKIFF_ROOT="$T/cli-root" SKIFF_RUNROOT="$T/cli-run" SKIFF_SUBNET_CLAIMS="$T/claims" SKIFF_ADDRESS_POOLS=10.214.64.0/18/24 \
  RUNS=$RUNS node --input-type=module -e '
  const d = (m) => import(process.argv[1] + "/dist/src/network/" + m + ".js");
  const [{ bridgeBackend }, { holderOf, release }, { defaultNetwork }, { hostsFile }, { containerResolvConf, parseResolvConf }, { forwardsOf, parsePublish }] =
    await Promise.all(["bridge", "ipam", "store", "hosts", "resolv", "ports"].map(d));
  const fs = await import("node:fs");
  const times = [];
  const holder = holderOf();
  for (let i = 0; i < Number(process.env.RUNS) + 5; i++) {
    const id = i.toString(16).padStart(64, "0");
    const s = process.hrtime.bigint();
    const network = await defaultNetwork();
    const p = await bridgeBackend.prepare({ containerId: id, name: "b" + i, networks: [{ network, aliases: [] }], forwards: forwardsOf(parsePublish([]).bindings), holder });
    hostsFile({ hostname: id.slice(0, 12), addresses: p.addresses, extraHosts: [], ipv6: true });
    containerResolvConf(parseResolvConf(fs.readFileSync("/etc/resolv.conf", "utf8")), { mode: p.resolv.mode, dns: [], dnsSearch: [], dnsOptions: [], ipv6: true });
    const e = process.hrtime.bigint();
    if (i >= 5) times.push(Number(e - s) / 1e6);
    await release(network.Name, id);
  }
  times.sort((a, b) => a - b);
  console.log(`${"prepare + files, default network".padEnd(62)} median ${times[Math.floor((times.length - 1) / 2)].toFixed(2).padStart(7)} ms   min ${times[0].toFixed(2).padStart(7)} ms   (n=${times.length})`);
' "$REPO"

# ---- e) rootless helpers ------------------------------------------------------------------------
if id "$RUSER" >/dev/null 2>&1; then
  echo "== e) rootless (as $RUSER): until the namespace is configured and the port bound"
  cat >"$T/rootless.sh" <<'EOF'
set -eu
T=$1 RUNS=$2
now() { date +%s%N; }
for tool in pasta slirp4netns; do
  command -v $tool >/dev/null || continue
  : >"$T/r-$tool"
  for i in $(seq "$RUNS"); do
    unshare -Urn sleep 30 & P=$!
    sleep 0.05
    rm -f "$T/r.fifo"; mkfifo "$T/r.fifo"
    if [ $tool = pasta ]; then
      s=$(now)
      pasta --config-net -q -4 -t 127.0.0.1/18383:80 -u none -T none -U none -f -P "$T/r.fifo" $P 2>/dev/null & H=$!
      read -r _ <"$T/r.fifo"; e=$(now)
    else
      s=$(now)
      slirp4netns --configure --mtu=65520 --disable-host-loopback --ready-fd=9 $P tap0 9>"$T/r.fifo" >/dev/null 2>&1 & H=$!
      head -c1 "$T/r.fifo" >/dev/null; e=$(now)
    fi
    echo "scale=3; ($e - $s) / 1000000" | bc >>"$T/r-$tool"
    kill $H $P; wait $H $P 2>/dev/null || true
  done
done
EOF
  chmod 0644 "$T/rootless.sh"; chmod 0777 "$T"
  runuser -u "$RUSER" -- bash "$T/rootless.sh" "$T" "$RUNS" 2>/dev/null || echo "(rootless measurements failed)"
  [ -s "$T/r-pasta" ] && stat "pasta --config-net -t (ready: pid written)" "$T/r-pasta"
  [ -s "$T/r-slirp4netns" ] && stat "slirp4netns --configure (ready-fd; ports need its API on top)" "$T/r-slirp4netns"
else
  echo "== e) rootless: no user $RUSER (scripts/rootless-user.sh makes one), skipped"
fi
