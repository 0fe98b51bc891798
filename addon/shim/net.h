/*
 * Container networking in the shim (docs/design/networking.md). The CLI plans (src/network/),
 * the shim executes the plan against the container's network namespace:
 *   netlink.c   rtnetlink and nfnetlink messages: build, send, read acks (errors with the kernel's text)
 *   rtnl.c      links (bridge, veth), addresses, routes, bridge ports
 *   nft.c       nf_tables: a network's table (masquerade, guards), a container's port table (DNAT)
 *   netplan.c   the plan (JSON, `skiff.network` in a spec or `skiff-shim net` input) → struct net_plan
 *   netsetup.c  setup/teardown of a plan: bridge, veth, addresses, routes, tables, host ports, DNS, pasta
 *   cmd_net.c   `skiff-shim net setup|teardown`
 * Every function records one line with fail()/failx() and returns -1 on failure, and undoes what it
 * made before returning (nothing is left behind on any failure path).
 */
#ifndef SKIFF_NET_H
#define SKIFF_NET_H

#include <jansson.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- netlink.c ---- */
struct nl {
  int fd;
  int proto;    /* NETLINK_ROUTE or NETLINK_NETFILTER */
  uint32_t seq; /* last sequence number used */
  uint32_t portid;
  char why[256]; /* the kernel's text for the last error (extended ack), if it sent one */
};
/* Open a netlink socket in the current network namespace, or in `netns_fd`'s (>= 0): the socket
   stays bound to that namespace. */
int nl_open(struct nl *nl, int proto, int netns_fd);
void nl_close(struct nl *nl);
/* a socket closed at the end of the scope (cleanup.h); initialise with NL_NONE */
#define cleanup_nl __attribute__((cleanup(nl_close)))
#define NL_NONE {.fd = -1}

/* A growing buffer of one or more netlink messages (a batch). */
struct nlm {
  char *buf;
  size_t len, cap;
  size_t msg;      /* offset of the message being built */
  size_t nest[16]; /* offsets of open nested attributes */
  int depth;
  unsigned count;  /* messages in the buffer */
  unsigned acks;   /* of which asked for an ack */
  bool dump;
};
void nlm_init(struct nlm *m);
void nlm_free(struct nlm *m);
/* Start a message of `type` with `flags` (NLM_F_REQUEST|NLM_F_ACK added) and a family header. */
void nlm_msg(struct nl *nl, struct nlm *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen);
/* A message without an ack (nfnetlink's batch begin/end). */
void nlm_marker(struct nl *nl, struct nlm *m, uint16_t type, const void *hdr, size_t hdrlen);
void nlm_put(struct nlm *m, uint16_t type, const void *data, size_t len);
void nlm_raw(struct nlm *m, const void *data, size_t len); /* aligned bytes (a header inside an attribute) */
void nlm_put_str(struct nlm *m, uint16_t type, const char *s);
void nlm_put_u8(struct nlm *m, uint16_t type, uint8_t v);
void nlm_put_u32(struct nlm *m, uint16_t type, uint32_t v);
void nlm_put_be32(struct nlm *m, uint16_t type, uint32_t host_order);
void nlm_nest(struct nlm *m, uint16_t type);
void nlm_nest_end(struct nlm *m);

/* Send every message of m and read an ack for each. On the first error: -errno (no failure recorded;
   *why gets the kernel's extended-ack text, if any). A dump (NLM_F_DUMP) calls `each` per reply. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *h, void *arg);
int nl_talk(struct nl *nl, struct nlm *m, nl_reply_fn each, void *arg, char *why, size_t whylen);

/* nl_talk, then free m: 0, or -1 with errno (nothing recorded: the caller knows what it was doing). */
int nl_send(struct nl *nl, struct nlm *m, nl_reply_fn each, void *arg);
/* Record "<what> <name>: <strerror(errno)> (<the kernel's text>)"; returns -1. */
int nl_failed(const struct nl *nl, const char *what, const char *name);

/* Attribute walking for replies. */
const struct nlattr *nla_first(const void *start, size_t len);
const struct nlattr *nla_next(const struct nlattr *a, size_t *rest);
/* for (size_t rest = len; ...; a = nla_next(a, &rest)) over the attributes at start */
static inline const void *nla_data(const struct nlattr *a) { return (const char *)a + NLA_HDRLEN; }
static inline size_t nla_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }

/* ---- addresses ---- */
struct net_addr {
  int family; /* AF_INET (AF_INET6 later) */
  unsigned char a[16];
  int prefix; /* -1: none given */
};
int net_addr_parse(const char *text, bool with_prefix, struct net_addr *out); /* "10.0.0.2" or "10.0.0.2/24" */
void net_addr_format(const struct net_addr *a, char *out, size_t len);        /* without the prefix */
int mac_parse(const char *text, unsigned char mac[6]);

/* ---- rtnl.c ---- */
int rt_link_index(struct nl *nl, const char *name);            /* > 0, 0 = no such link, -1 error */
int rt_link_kind(struct nl *nl, const char *name, char *kind, size_t len); /* 0, or -1 (ENODEV: none) */
int rt_bridge_add(struct nl *nl, const char *name, int mtu);   /* -1 with errno EEXIST when it exists */
int rt_veth_add(struct nl *nl, const char *host, const char *peer, int peer_netns_fd, const unsigned char *peer_mac,
                int mtu);
int rt_link_up(struct nl *nl, int index, int master);          /* master 0: none */
int rt_link_del(struct nl *nl, const char *name);              /* 0 also when it does not exist */
int rt_link_del_index(struct nl *nl, int index);               /* 0 also when it does not exist */
/* Down, then renamed (a link that is up cannot be renamed): -1 with errno EEXIST when the name is taken */
int rt_link_down_rename(struct nl *nl, int index, const char *name);
int rt_bridge_port_hairpin(struct nl *nl, int index);
int rt_link_mac(struct nl *nl, int index, unsigned char mac[6]);
int rt_addr_add(struct nl *nl, int index, const struct net_addr *a); /* EEXIST is success */
int rt_addr_del(struct nl *nl, int index, const struct net_addr *a); /* an address it does not have: success */
int rt_route_add(struct nl *nl, int index, const struct net_addr *dst, const struct net_addr *gw);
/* the same in routing table `table` (main: RT_TABLE_MAIN); onlink: the gateway needs no route of its own */
int rt_route_add_in(struct nl *nl, int index, const struct net_addr *dst, const struct net_addr *gw, unsigned table,
                    bool onlink);
int rt_rule_add_from(struct nl *nl, const struct net_addr *from, unsigned table, unsigned priority); /* `ip rule add from A/32 table T pref P` */
int rt_bridge_ports(struct nl *nl, int bridge_index);          /* number of links enslaved, -1 error */

/* A rootless user network's port forward (cmd_netns.c fwd_start, netsetup.c request_forward): the
   forward's pasta makes tap FWD_IFNAME in the container's network namespace, where connections that are
   not from the host's loopback (those pasta does not splice) arrive addressed to FWD_ADDR from their
   own source (the host itself: FWD_GW). The shim gives the tap that address and sends what leaves from
   it back through the tap (a rule to table FWD_TABLE), whatever the container's default route is. */
#define FWD_IFNAME "skiff-fwd"
#define FWD_ADDR "169.254.1.2"
#define FWD_GW "169.254.1.1"
#define FWD_TABLE 1834u
#define FWD_RULE_PRIORITY 1834u

/* ---- nft.c ---- */
struct net_network;
struct net_port;
/* The network's table (skiff_<bridge>): masquerade of the subnet (not for --internal), of loopback
   sources sent to its containers (published ports reached at 127.0.0.1) and of containers reaching a
   container of the same network through a host port; drops loopback destinations arriving from the
   bridge (route_localnet is on); an internal network reaches nothing outside the bridge but its DNS.
   Created atomically (one batch, the table EXCL): a concurrent creator's EEXIST is success. */
int nft_network_ensure(struct nl *nl, const struct net_network *n);
int nft_table_del(struct nl *nl, const char *name); /* 0 also when it does not exist */
/* The container's port table (skiff_p_<id>): DNAT from the host ports to the container, owned by
   nl's socket (NFT_TABLE_F_OWNER): the kernel removes it when that socket closes, so the rules live
   exactly as long as the process that holds it (the shim, the monitor). */
int nft_ports_table(struct nl *nl, const char *table, const struct net_port *ports, const unsigned *host_ports, size_t n);

/* ---- netplan.c ---- */
struct net_network {
  const char *name;   /* the network's name (aardvark's file name) */
  const char *bridge; /* bridge device */
  const char *table;  /* its nf_tables table */
  struct net_addr subnet, gateway; /* gateway with the subnet's prefix */
  int mtu;
  bool internal;
  const char *dns_dir; /* aardvark-dns config dir, NULL: no DNS on this network */
};
struct net_iface {
  const char *name;      /* in the container: eth0 */
  const char *host_name; /* host end of the veth */
  unsigned char mac[6];
  bool has_mac;
  struct net_addr addr; /* with the subnet's prefix */
  bool default_route;
  const char *dns_names; /* comma-separated names for the network's DNS (NULL: none) */
  struct net_network net;
};
struct net_port {
  int proto; /* IPPROTO_TCP, IPPROTO_UDP */
  bool has_host_ip;
  struct net_addr host_ip;
  unsigned host_port, host_port_end; /* 0: any free port; a range: the first free one */
  struct net_addr container_ip;
  unsigned container_port;
};
struct net_pasta {
  const char *path;
  char **args; /* options before ours (-f -P ... PID) */
};
struct net_plan {
  json_t *json; /* owns the strings */
  const char *container_id, *endpoint, *lock_file, *ports_table, *aardvark;
  /* made empty once the final teardown succeeded (the CLI's sweep then forgets the leases without a teardown) */
  const char *down_file;
  struct net_iface *ifaces;
  size_t nifaces;
  struct net_port *ports;
  size_t nports;
  bool has_pasta;
  struct net_pasta pasta;
  /* rootless user networks: the holder's socket (cmd_netns.c) that forwards the host ports into this
     container's namespace with a pasta of its own, for as long as the request's connection stays open */
  const char *forward_socket;
};
int net_plan_parse(json_t *j, struct net_plan *p); /* j is borrowed (kept in p->json with a reference) */
int net_plan_load(const char *file, struct net_plan *p);
void net_plan_free(struct net_plan *p);
#define cleanup_plan __attribute__((cleanup(net_plan_free))) /* initialise with {0} */

/* ---- aardvark.c (callers hold the networks lock) ---- */
int dns_add(const char *aardvark, const struct net_iface *f, const char *id, const char *servers);
int dns_remove(const struct net_iface *f, const char *id);

/* ---- netsetup.c ---- */
/* What a setup holds: the port table's socket and the host ports' sockets (reservations: no other
   process can bind them while the container runs), pasta's pid. Released by net_release: closing
   the socket drops the table. */
#define NET_HELD_IFACES 16
enum net_phase { PH_LOCK, PH_BRIDGE, PH_FIREWALL, PH_VETH, PH_INSIDE, PH_DNS, PH_PORTS, PH_PASTA, PH_COUNT };
struct net_held {
  long long us[PH_COUNT]; /* where the setup's time went (status "timings", bench/net.sh) */
  int nft_fd;
  int *port_fds;
  size_t nport_fds;
  unsigned *bound_ports; /* the host port each plan port got (same order as plan ports) */
  pid_t pasta;
  int pasta_ready; /* a pasta spawned and not yet waited for: its ready pipe */
  int pasta_log;   /* pasta's stderr (a memfd), for as long as it runs */
  int pasta_nl;   /* net_watch_pasta's socket on the IPv4 routes of pasta's namespace (-1: none) */
  int pasta_late; /* the ready pipe of a pasta that configured the namespace and still starts: kept
                     open until it writes its pid there (a closed pipe would fail that write) */
  const char *pasta_path;
  int fwd_fd; /* the connection to the holder that keeps this start's host-port forward (-1: none) */
  /* the index of each interface's host veth as this start made it (0: unknown, teardown goes by name) */
  int veth_index[NET_HELD_IFACES];
};
void net_held_init(struct net_held *h);
/* Set the plan up for the network namespace `netns_fd` of process `pid` (pasta needs the pid).
   On failure everything made is undone and the failure recorded. */
int net_setup(const struct net_plan *p, int netns_fd, pid_t pid, struct net_held *h);
/* One start of a container (cmd_run.c's network step): net_setup, except that host ports `h`
   holds already (a restart) are kept. On failure what this call made is undone; h keeps the rest. */
int net_start(const struct net_plan *p, int netns_fd, pid_t pid, struct net_held *h);
/* The status as JSON (interfaces with their MACs, ports with their host ports). */
char *net_status(const struct net_plan *p, const struct net_held *h, int netns_fd);
/* With SKIFF_TRACE_STARTUP=1: one "skiff-trace-net PHASE MS ..." line on stderr, where the network
   step's time went (the same phases as the status's timingsUs). */
void net_trace(const struct net_held *h);
/* pasta for the namespaces of `target` (the plan's pasta part), its pid in h->pasta (cmd_netns.c too):
   net_spawn_pasta, then net_wait_pasta. */
int net_start_pasta(const struct net_plan *p, pid_t target, struct net_held *h);
/* The two halves, for a caller that overlaps pasta's start (~13 ms, most of it pasta's own set-up)
   with its own work: spawn (the fixed host ports test-bound first) as soon as `target` exists (its
   user namespace need not be mapped yet), and wait until pasta has configured the namespace and bound
   the ports before the container's command runs. net_start waits for a pasta spawned so (it spawns
   one only when none is pending); net_stop ends a pending one too (a start that failed in between). */
int net_spawn_pasta(const struct net_plan *p, pid_t target, struct net_held *h);
int net_wait_pasta(struct net_held *h); /* 0 when none is pending */
/* After net_spawn_pasta: net_wait_pasta returns once pasta has configured `target`'s network
   namespace (its default route is there: the interface, address and route are pasta's first steps,
   after it bound the host ports) instead of after pasta's whole start, about two thirds of which (its
   TCP, UDP and ICMP tables) it does after that; a failure before that point is reported as before. */
int net_watch_pasta(pid_t target, struct net_held *h);
/* A pasta of h's that ended on its own (reaped by the caller with wait status `status`): why, in
   `out` ("pasta exited with status 1: <its last line>"); h no longer holds it. */
void net_pasta_ended(struct net_held *h, int status, char *out, size_t len);
/* pasta `path` `args` joining the user namespace `userns_fd` and then the network namespace
   `netns_fd` (the holder's host-port forwards), its pid in h->pasta. */
int net_start_pasta_in(const char *path, char **args, int userns_fd, int netns_fd, struct net_held *h);
void net_stop(struct net_held *h);    /* the end of one start: pasta goes (the host ports stay held) */
void net_release(struct net_held *h); /* close the held sockets, stop pasta */
#define cleanup_held __attribute__((cleanup(net_release))) /* net_setup initialises it */
/* Remove what setup made outside the namespace (the veth's host end, DNS entries), and the bridge and
   the network's table when no container uses them any more. Idempotent: a second run does nothing.
   Only the bookkeeping is done under the networks lock; the kernel's deletion of links (which waits for
   RCU grace periods, tens of ms) is not:
   - the veths, with `h` (the holder's net_held: their indexes as its last start made them): deleted by
     index before the lock (a later start's veth of the same name is not touched; while its link
     exists, that start owns the container's DNS entries too). Without `h`: by name, under the lock.
   - a bridge left without ports is retired under the lock (its address and table removed, brought
     down, renamed to a name of this container's interface: 'S' for the host end's 's') and deleted
     by index after it: a start after the rename makes a new bridge of the network's name. Without `h`
     (the CLI's sweep of a crash) the retired names of the plan's interfaces are deleted too. */
int net_teardown_held(const struct net_plan *p, const struct net_held *h);
int net_teardown(const struct net_plan *p); /* net_teardown_held(p, NULL) */

#endif
