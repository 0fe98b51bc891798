/* Links, addresses and routes through rtnetlink (what `ip link/addr/route` do, without the exec). */

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "net.h"
#include "shim.h"

struct link_query {
  int index;
  char kind[32];
};

static int on_link(const struct nlmsghdr *h, void *arg) {
  struct link_query *q = arg;
  if (h->nlmsg_type != RTM_NEWLINK) return 0;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  q->index = ifi->ifi_index;
  size_t rest = h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
  for (const struct nlattr *a = nla_first(IFLA_RTA(ifi), rest); a; a = nla_next(a, &rest)) {
    if ((a->nla_type & NLA_TYPE_MASK) != IFLA_LINKINFO) continue;
    size_t r2 = nla_len(a);
    for (const struct nlattr *b = nla_first(nla_data(a), r2); b; b = nla_next(b, &r2))
      if ((b->nla_type & NLA_TYPE_MASK) == IFLA_INFO_KIND)
        snprintf(q->kind, sizeof q->kind, "%.*s", (int)nla_len(b), (const char *)nla_data(b));
  }
  return 0;
}

static int get_link(struct nl *nl, const char *name, struct link_query *q) {
  memset(q, 0, sizeof *q);
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nlm_msg(nl, &m, RTM_GETLINK, 0, &ifi, sizeof ifi);
  nlm_put_str(&m, IFLA_IFNAME, name);
  nlm_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return nl_send(nl, &m, on_link, q);
}

int rt_link_index(struct nl *nl, const char *name) {
  struct link_query q;
  if (get_link(nl, name, &q) < 0) return errno == ENODEV ? 0 : nl_failed(nl, "look up link", name);
  return q.index;
}

int rt_link_kind(struct nl *nl, const char *name, char *kind, size_t len) {
  struct link_query q;
  if (get_link(nl, name, &q) < 0) return errno == ENODEV ? -1 : nl_failed(nl, "look up link", name);
  snprintf(kind, len, "%s", q.kind);
  return 0;
}

int rt_bridge_add(struct nl *nl, const char *name, int mtu) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nlm_msg(nl, &m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nlm_put_str(&m, IFLA_IFNAME, name);
  if (mtu > 0) nlm_put_u32(&m, IFLA_MTU, (uint32_t)mtu);
  nlm_nest(&m, IFLA_LINKINFO);
  nlm_put_str(&m, IFLA_INFO_KIND, "bridge");
  nlm_nest_end(&m);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? -1 : nl_failed(nl, "create bridge", name);
  return 0;
}

int rt_veth_add(struct nl *nl, const char *host, const char *peer, int peer_netns_fd, const unsigned char *peer_mac,
                int mtu) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nlm_msg(nl, &m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nlm_put_str(&m, IFLA_IFNAME, host);
  if (mtu > 0) nlm_put_u32(&m, IFLA_MTU, (uint32_t)mtu);
  nlm_nest(&m, IFLA_LINKINFO);
  nlm_put_str(&m, IFLA_INFO_KIND, "veth");
  nlm_nest(&m, IFLA_INFO_DATA);
  nlm_nest(&m, VETH_INFO_PEER);
  /* the peer: created straight in the container's namespace, with its final name */
  struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
  nlm_raw(&m, &pifi, sizeof pifi);
  nlm_put_str(&m, IFLA_IFNAME, peer);
  nlm_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
  if (mtu > 0) nlm_put_u32(&m, IFLA_MTU, (uint32_t)mtu);
  if (peer_mac) nlm_put(&m, IFLA_ADDRESS, peer_mac, 6);
  nlm_nest_end(&m);
  nlm_nest_end(&m);
  nlm_nest_end(&m);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? failx("create veth %s: a link with that name exists", host)
                                                           : nl_failed(nl, "create veth", host);
  return 0;
}

int rt_link_up(struct nl *nl, int index, int master) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  nlm_msg(nl, &m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (master) nlm_put_u32(&m, IFLA_MASTER, (uint32_t)master);
  char name[32];
  snprintf(name, sizeof name, "#%d", index);
  return nl_send(nl, &m, NULL, NULL) < 0 ? nl_failed(nl, master ? "attach and bring up link" : "bring up link", name) : 0;
}

/* Hairpin mode on a bridge port: a container reaching its own published port through the host
   comes back out of the port it came in by (br_netfilter bridges the DNAT'd frame). */
int rt_bridge_port_hairpin(struct nl *nl, int index) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = index};
  nlm_msg(nl, &m, RTM_SETLINK, 0, &ifi, sizeof ifi);
  nlm_nest(&m, IFLA_PROTINFO);
  nlm_put_u8(&m, IFLA_BRPORT_MODE, BRIDGE_MODE_HAIRPIN);
  nlm_nest_end(&m);
  char name[32];
  snprintf(name, sizeof name, "#%d", index);
  return nl_send(nl, &m, NULL, NULL) < 0 ? nl_failed(nl, "set hairpin mode on bridge port", name) : 0;
}

int rt_link_del(struct nl *nl, const char *name) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nlm_msg(nl, &m, RTM_DELLINK, 0, &ifi, sizeof ifi);
  nlm_put_str(&m, IFLA_IFNAME, name);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == ENODEV ? 0 : nl_failed(nl, "delete link", name);
  return 0;
}

/* By index: the link setup made, whatever has its name now (the kernel hands indexes out cyclically,
   so an index is not reused by another link while its holder's teardown runs). */
int rt_link_del_index(struct nl *nl, int index) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  nlm_msg(nl, &m, RTM_DELLINK, 0, &ifi, sizeof ifi);
  char name[32];
  snprintf(name, sizeof name, "#%d", index);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == ENODEV ? 0 : nl_failed(nl, "delete link", name);
  return 0;
}

int rt_link_down_rename(struct nl *nl, int index, const char *name) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg down = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = 0, .ifi_change = IFF_UP};
  nlm_msg(nl, &m, RTM_NEWLINK, 0, &down, sizeof down);
  char what[32];
  snprintf(what, sizeof what, "#%d", index);
  if (nl_send(nl, &m, NULL, NULL) < 0) return nl_failed(nl, "bring down link", what);
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  nlm_msg(nl, &m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  nlm_put_str(&m, IFLA_IFNAME, name);
  if (nl_send(nl, &m, NULL, NULL) < 0) {
    int e = errno;
    nl_failed(nl, "rename link", what);
    return errno = e, -1;
  }
  return 0;
}

struct mac_query {
  unsigned char mac[6];
  bool found;
};

static int on_mac(const struct nlmsghdr *h, void *arg) {
  struct mac_query *q = arg;
  if (h->nlmsg_type != RTM_NEWLINK) return 0;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  size_t rest = h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
  for (const struct nlattr *a = nla_first(IFLA_RTA(ifi), rest); a; a = nla_next(a, &rest))
    if ((a->nla_type & NLA_TYPE_MASK) == IFLA_ADDRESS && nla_len(a) == 6) {
      memcpy(q->mac, nla_data(a), 6);
      q->found = true;
    }
  return 0;
}

int rt_link_mac(struct nl *nl, int index, unsigned char mac[6]) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  nlm_msg(nl, &m, RTM_GETLINK, 0, &ifi, sizeof ifi);
  nlm_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  struct mac_query q = {.found = false};
  char name[32];
  snprintf(name, sizeof name, "#%d", index);
  if (nl_send(nl, &m, on_mac, &q) < 0) return nl_failed(nl, "read the MAC address of link", name);
  if (!q.found) return failx("read the MAC address of link %s: none", name);
  memcpy(mac, q.mac, 6);
  return 0;
}

int rt_addr_add(struct nl *nl, int index, const struct net_addr *a) {
  struct nlm m;
  nlm_init(&m);
  struct ifaddrmsg ifa = {.ifa_family = (unsigned char)a->family, .ifa_prefixlen = (unsigned char)a->prefix,
                          .ifa_index = (unsigned)index};
  nlm_msg(nl, &m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  nlm_put(&m, IFA_LOCAL, a->a, 4);
  nlm_put(&m, IFA_ADDRESS, a->a, 4);
  if (a->prefix < 31) { /* the broadcast address, as `ip addr add ... brd +` */
    unsigned char b[4];
    memcpy(b, a->a, 4);
    for (int bit = a->prefix; bit < 32; bit++) b[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
    nlm_put(&m, IFA_BROADCAST, b, 4);
  }
  char text[64];
  net_addr_format(a, text, sizeof text);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? 0 : nl_failed(nl, "add address", text);
  return 0;
}

int rt_addr_del(struct nl *nl, int index, const struct net_addr *a) {
  struct nlm m;
  nlm_init(&m);
  struct ifaddrmsg ifa = {.ifa_family = (unsigned char)a->family, .ifa_prefixlen = (unsigned char)a->prefix,
                          .ifa_index = (unsigned)index};
  nlm_msg(nl, &m, RTM_DELADDR, 0, &ifa, sizeof ifa);
  nlm_put(&m, IFA_LOCAL, a->a, 4);
  char text[64];
  net_addr_format(a, text, sizeof text);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EADDRNOTAVAIL ? 0 : nl_failed(nl, "delete address", text);
  return 0;
}

int rt_route_add(struct nl *nl, int index, const struct net_addr *dst, const struct net_addr *gw) {
  return rt_route_add_in(nl, index, dst, gw, RT_TABLE_MAIN, false);
}

int rt_route_add_in(struct nl *nl, int index, const struct net_addr *dst, const struct net_addr *gw, unsigned table,
                    bool onlink) {
  struct nlm m;
  nlm_init(&m);
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_dst_len = (unsigned char)(dst ? dst->prefix : 0),
                     .rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC, .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, .rtm_type = RTN_UNICAST,
                     .rtm_flags = onlink ? RTNH_F_ONLINK : 0};
  nlm_msg(nl, &m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
  if (table >= 256) nlm_put_u32(&m, RTA_TABLE, table);
  if (dst && dst->prefix > 0) nlm_put(&m, RTA_DST, dst->a, 4);
  if (gw) nlm_put(&m, RTA_GATEWAY, gw->a, 4);
  nlm_put_u32(&m, RTA_OIF, (uint32_t)index);
  char text[64] = "default";
  if (dst && dst->prefix > 0) net_addr_format(dst, text, sizeof text);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? 0 : nl_failed(nl, "add route", text);
  return 0;
}

int rt_rule_add_from(struct nl *nl, const struct net_addr *from, unsigned table, unsigned priority) {
  struct nlm m;
  nlm_init(&m);
  struct fib_rule_hdr fr = {.family = AF_INET, .src_len = 32, .action = FR_ACT_TO_TBL,
                            .table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC};
  nlm_msg(nl, &m, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &fr, sizeof fr);
  nlm_put(&m, FRA_SRC, from->a, 4);
  nlm_put_u32(&m, FRA_TABLE, table);
  nlm_put_u32(&m, FRA_PRIORITY, priority);
  char text[64];
  net_addr_format(from, text, sizeof text);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? 0 : nl_failed(nl, "add the routing rule from", text);
  return 0;
}

struct ports_query {
  int master, count;
};

static int on_port(const struct nlmsghdr *h, void *arg) {
  struct ports_query *q = arg;
  if (h->nlmsg_type != RTM_NEWLINK) return 0;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  size_t rest = h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
  for (const struct nlattr *a = nla_first(IFLA_RTA(ifi), rest); a; a = nla_next(a, &rest))
    if ((a->nla_type & NLA_TYPE_MASK) == IFLA_MASTER && nla_len(a) == 4 && *(const uint32_t *)nla_data(a) == (uint32_t)q->master)
      q->count++;
  return 0;
}

int rt_bridge_ports(struct nl *nl, int bridge_index) {
  struct nlm m;
  nlm_init(&m);
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nlm_msg(nl, &m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  nlm_put_u32(&m, IFLA_MASTER, (uint32_t)bridge_index); /* the kernel filters the dump by master */
  nlm_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  struct ports_query q = {bridge_index, 0};
  if (nl_send(nl, &m, on_port, &q) < 0) return nl_failed(nl, "list the ports of bridge", "");
  return q.count;
}
