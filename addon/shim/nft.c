/*
 * nf_tables through nfnetlink: each change is one batch (the kernel applies all of it or nothing).
 * Two kinds of tables, family ip:
 *   <network table>  one per bridge network, while the network has containers (netsetup.c)
 *   <ports table>    one per container with published ports, owned by the socket that made it
 * What `nft list ruleset` shows for them (G = gateway, S = subnet, B = bridge):
 *   table ip skiff_B {
 *     chain postrouting { type nat hook postrouting priority srcnat;
 *       ip saddr S ip daddr != S masquerade                  (not for --internal)
 *       oifname B ip saddr 127.0.0.0/8 masquerade            (host ports reached at 127.0.0.1)
 *       oifname B ip saddr S ct status dnat masquerade       (a container through a host port to its network) }
 *     chain input { type filter hook input priority filter;
 *       iifname B ip daddr 127.0.0.0/8 ct state != established,related drop   (route_localnet is on)
 *       --internal: iifname B ct state established,related accept; iifname B meta l4proto udp|tcp th dport 53
 *       ip daddr G accept; iifname B drop }
 *     chain forward { type filter hook forward priority filter;          (--internal only)
 *       iifname B oifname != B drop; oifname B iifname != B drop } }
 *   table ip skiff_p_<id> {   flags owner
 *     chain prerouting { type nat hook prerouting priority dstnat;
 *       fib daddr type local (or ip daddr HOSTIP) meta l4proto P th dport HOSTPORT dnat to CTR:PORT ... }
 *     chain output { type nat hook output priority dstnat; the same rules } }
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "net.h"
#include "shim.h"

/* hook priorities (linux/netfilter_ipv4.h's NF_IP_PRI_*, not in the uapi headers glibc builds with) */
enum { PRI_NAT_DST = -100, PRI_FILTER = 0, PRI_NAT_SRC = 100 };

#define NFT_TYPE(msg) ((uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (msg)))

static void nft_msg(struct nl *nl, struct nlm *m, int msg, uint16_t flags) {
  struct nfgenmsg g = {.nfgen_family = NFPROTO_IPV4, .version = NFNETLINK_V0, .res_id = 0};
  nlm_msg(nl, m, NFT_TYPE(msg), flags, &g, sizeof g);
}

static void batch(struct nl *nl, struct nlm *m, int marker) {
  struct nfgenmsg g = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0, .res_id = htons(NFNL_SUBSYS_NFTABLES)};
  nlm_marker(nl, m, (uint16_t)marker, &g, sizeof g);
}

/* ---- tables, chains, rules ---- */

static void table(struct nl *nl, struct nlm *m, const char *name, uint32_t flags, uint16_t nlflags) {
  nft_msg(nl, m, NFT_MSG_NEWTABLE, NLM_F_CREATE | nlflags);
  nlm_put_str(m, NFTA_TABLE_NAME, name);
  nlm_put_be32(m, NFTA_TABLE_FLAGS, flags);
}

static void chain(struct nl *nl, struct nlm *m, const char *tbl, const char *name, const char *type, int hook,
                  int prio) {
  nft_msg(nl, m, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
  nlm_put_str(m, NFTA_CHAIN_TABLE, tbl);
  nlm_put_str(m, NFTA_CHAIN_NAME, name);
  nlm_nest(m, NFTA_CHAIN_HOOK);
  nlm_put_be32(m, NFTA_HOOK_HOOKNUM, (uint32_t)hook);
  nlm_put_be32(m, NFTA_HOOK_PRIORITY, (uint32_t)prio);
  nlm_nest_end(m);
  nlm_put_str(m, NFTA_CHAIN_TYPE, type);
  nlm_put_be32(m, NFTA_CHAIN_POLICY, NF_ACCEPT);
}

static void rule_begin(struct nl *nl, struct nlm *m, const char *tbl, const char *ch) {
  nft_msg(nl, m, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
  nlm_put_str(m, NFTA_RULE_TABLE, tbl);
  nlm_put_str(m, NFTA_RULE_CHAIN, ch);
  nlm_nest(m, NFTA_RULE_EXPRESSIONS);
}
static void rule_end(struct nlm *m) { nlm_nest_end(m); }

static void expr(struct nlm *m, const char *name) {
  nlm_nest(m, NFTA_LIST_ELEM);
  nlm_put_str(m, NFTA_EXPR_NAME, name);
  nlm_nest(m, NFTA_EXPR_DATA);
}
static void expr_end(struct nlm *m) {
  nlm_nest_end(m);
  nlm_nest_end(m);
}

static void data_value(struct nlm *m, uint16_t attr, const void *v, size_t len) {
  nlm_nest(m, attr);
  nlm_put(m, NFTA_DATA_VALUE, v, len);
  nlm_nest_end(m);
}

static void payload(struct nlm *m, uint32_t base, uint32_t offset, uint32_t len) {
  expr(m, "payload");
  nlm_put_be32(m, NFTA_PAYLOAD_DREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_PAYLOAD_BASE, base);
  nlm_put_be32(m, NFTA_PAYLOAD_OFFSET, offset);
  nlm_put_be32(m, NFTA_PAYLOAD_LEN, len);
  expr_end(m);
}

static void meta(struct nlm *m, uint32_t key) {
  expr(m, "meta");
  nlm_put_be32(m, NFTA_META_DREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_META_KEY, key);
  expr_end(m);
}

static void ct(struct nlm *m, uint32_t key) {
  expr(m, "ct");
  nlm_put_be32(m, NFTA_CT_DREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_CT_KEY, key);
  expr_end(m);
}

static void cmp(struct nlm *m, uint32_t op, const void *v, size_t len) {
  expr(m, "cmp");
  nlm_put_be32(m, NFTA_CMP_SREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_CMP_OP, op);
  data_value(m, NFTA_CMP_DATA, v, len);
  expr_end(m);
}

static void bitwise(struct nlm *m, const void *mask, size_t len) {
  static const unsigned char zero[16];
  expr(m, "bitwise");
  nlm_put_be32(m, NFTA_BITWISE_SREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_BITWISE_DREG, NFT_REG_1);
  nlm_put_be32(m, NFTA_BITWISE_LEN, (uint32_t)len);
  data_value(m, NFTA_BITWISE_MASK, mask, len);
  data_value(m, NFTA_BITWISE_XOR, zero, len);
  expr_end(m);
}

static void verdict(struct nlm *m, int code) {
  expr(m, "immediate");
  nlm_put_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
  nlm_nest(m, NFTA_IMMEDIATE_DATA);
  nlm_nest(m, NFTA_DATA_VERDICT);
  nlm_put_be32(m, NFTA_VERDICT_CODE, (uint32_t)code);
  nlm_nest_end(m);
  nlm_nest_end(m);
  expr_end(m);
}

static void masquerade(struct nlm *m) {
  nlm_nest(m, NFTA_LIST_ELEM);
  nlm_put_str(m, NFTA_EXPR_NAME, "masq");
  nlm_nest_end(m);
}

/* ---- matches ---- */

static void match_ifname(struct nlm *m, uint32_t key, uint32_t op, const char *name) {
  char padded[IFNAMSIZ] = {0};
  snprintf(padded, sizeof padded, "%s", name);
  meta(m, key);
  cmp(m, op, padded, sizeof padded);
}

/* ip saddr/daddr (offset 12/16) in (NFT_CMP_EQ) or not in (NFT_CMP_NEQ) the prefix */
static void match_prefix(struct nlm *m, uint32_t offset, uint32_t op, const struct net_addr *p) {
  payload(m, NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
  unsigned char mask[4] = {0}, net[4];
  for (int bit = 0; bit < p->prefix; bit++) mask[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
  for (int i = 0; i < 4; i++) net[i] = p->a[i] & mask[i];
  if (p->prefix < 32) bitwise(m, mask, 4);
  cmp(m, op, net, 4);
}

static const struct net_addr LOOPBACK8 = {AF_INET, {127, 0, 0, 0}, 8};

/* ct state (or status) & bits != 0 (op NEQ) or == 0 (op EQ) */
static void match_ct_bits(struct nlm *m, uint32_t key, uint32_t bits, uint32_t op) {
  static const uint32_t zero = 0;
  ct(m, key);
  bitwise(m, &bits, 4);
  cmp(m, op, &zero, 4);
}
#define CT_EST_REL (NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED))

static void match_l4(struct nlm *m, uint8_t proto, uint16_t dport) {
  meta(m, NFT_META_L4PROTO);
  cmp(m, NFT_CMP_EQ, &proto, 1);
  uint16_t be = htons(dport);
  payload(m, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  cmp(m, NFT_CMP_EQ, &be, 2);
}

/* ---- the network's table ---- */

/* 1: the table exists, 0: it does not, -1: error. A plain request, no transaction: a batch that the
   kernel refuses (EEXIST) costs an abort, which waits for an RCU grace period (ms on a busy machine). */
static int table_exists(struct nl *nl, const char *name) {
  struct nlm m;
  nlm_init(&m);
  nft_msg(nl, &m, NFT_MSG_GETTABLE, 0);
  nlm_put_str(&m, NFTA_TABLE_NAME, name);
  if (nl_send(nl, &m, NULL, NULL) == 0) return 1;
  return errno == ENOENT ? 0 : nl_failed(nl, "look up the firewall table", name);
}

int nft_network_ensure(struct nl *nl, const struct net_network *n) {
  const char *t = n->table;
  const char *b = n->bridge;
  int exists = table_exists(nl, t);
  if (exists) return exists < 0 ? -1 : 0;
  struct nlm m;
  nlm_init(&m);
  batch(nl, &m, NFNL_MSG_BATCH_BEGIN);
  table(nl, &m, t, 0, NLM_F_EXCL);
  chain(nl, &m, t, "postrouting", "nat", NF_INET_POST_ROUTING, PRI_NAT_SRC);
  if (!n->internal) {
    rule_begin(nl, &m, t, "postrouting");
    match_prefix(&m, 12, NFT_CMP_EQ, &n->subnet);
    match_prefix(&m, 16, NFT_CMP_NEQ, &n->subnet);
    masquerade(&m);
    rule_end(&m);
  }
  rule_begin(nl, &m, t, "postrouting");
  match_ifname(&m, NFT_META_OIFNAME, NFT_CMP_EQ, b);
  match_prefix(&m, 12, NFT_CMP_EQ, &LOOPBACK8);
  masquerade(&m);
  rule_end(&m);
  rule_begin(nl, &m, t, "postrouting");
  match_ifname(&m, NFT_META_OIFNAME, NFT_CMP_EQ, b);
  match_prefix(&m, 12, NFT_CMP_EQ, &n->subnet);
  match_ct_bits(&m, NFT_CT_STATUS, IPS_DST_NAT, NFT_CMP_NEQ);
  masquerade(&m);
  rule_end(&m);

  chain(nl, &m, t, "input", "filter", NF_INET_LOCAL_IN, PRI_FILTER);
  rule_begin(nl, &m, t, "input");
  match_ifname(&m, NFT_META_IIFNAME, NFT_CMP_EQ, b);
  match_prefix(&m, 16, NFT_CMP_EQ, &LOOPBACK8);
  match_ct_bits(&m, NFT_CT_STATE, CT_EST_REL, NFT_CMP_EQ);
  verdict(&m, NF_DROP);
  rule_end(&m);
  if (n->internal) {
    rule_begin(nl, &m, t, "input");
    match_ifname(&m, NFT_META_IIFNAME, NFT_CMP_EQ, b);
    match_ct_bits(&m, NFT_CT_STATE, CT_EST_REL, NFT_CMP_NEQ);
    verdict(&m, NF_ACCEPT);
    rule_end(&m);
    for (int i = 0; i < 2; i++) {
      rule_begin(nl, &m, t, "input");
      match_ifname(&m, NFT_META_IIFNAME, NFT_CMP_EQ, b);
      payload(&m, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
      cmp(&m, NFT_CMP_EQ, n->gateway.a, 4);
      match_l4(&m, i ? IPPROTO_TCP : IPPROTO_UDP, 53);
      verdict(&m, NF_ACCEPT);
      rule_end(&m);
    }
    rule_begin(nl, &m, t, "input");
    match_ifname(&m, NFT_META_IIFNAME, NFT_CMP_EQ, b);
    verdict(&m, NF_DROP);
    rule_end(&m);
    chain(nl, &m, t, "forward", "filter", NF_INET_FORWARD, PRI_FILTER);
    for (int i = 0; i < 2; i++) {
      rule_begin(nl, &m, t, "forward");
      match_ifname(&m, i ? NFT_META_OIFNAME : NFT_META_IIFNAME, NFT_CMP_EQ, b);
      match_ifname(&m, i ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_CMP_NEQ, b);
      verdict(&m, NF_DROP);
      rule_end(&m);
    }
  }
  batch(nl, &m, NFNL_MSG_BATCH_END);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == EEXIST ? 0 : nl_failed(nl, "create the firewall table", t);
  return 0;
}

int nft_table_del(struct nl *nl, const char *name) {
  struct nlm m;
  nlm_init(&m);
  batch(nl, &m, NFNL_MSG_BATCH_BEGIN);
  nft_msg(nl, &m, NFT_MSG_DELTABLE, 0);
  nlm_put_str(&m, NFTA_TABLE_NAME, name);
  batch(nl, &m, NFNL_MSG_BATCH_END);
  if (nl_send(nl, &m, NULL, NULL) < 0) return errno == ENOENT ? 0 : nl_failed(nl, "delete the firewall table", name);
  return 0;
}

/* ---- a container's published ports ---- */

static void dnat_rule(struct nl *nl, struct nlm *m, const char *t, const char *ch, const struct net_port *p,
                      unsigned host_port) {
  rule_begin(nl, m, t, ch);
  if (p->has_host_ip) {
    payload(m, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
    cmp(m, NFT_CMP_EQ, p->host_ip.a, 4);
  } else {
    expr(m, "fib");
    nlm_put_be32(m, NFTA_FIB_DREG, NFT_REG_1);
    nlm_put_be32(m, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nlm_put_be32(m, NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
    expr_end(m);
    uint32_t local = RTN_LOCAL;
    cmp(m, NFT_CMP_EQ, &local, 4);
  }
  match_l4(m, (uint8_t)p->proto, (uint16_t)host_port);
  expr(m, "immediate");
  nlm_put_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_1);
  data_value(m, NFTA_IMMEDIATE_DATA, p->container_ip.a, 4);
  expr_end(m);
  uint16_t port = htons((uint16_t)p->container_port);
  expr(m, "immediate");
  nlm_put_be32(m, NFTA_IMMEDIATE_DREG, NFT_REG_2);
  data_value(m, NFTA_IMMEDIATE_DATA, &port, 2);
  expr_end(m);
  expr(m, "nat");
  nlm_put_be32(m, NFTA_NAT_TYPE, NFT_NAT_DNAT);
  nlm_put_be32(m, NFTA_NAT_FAMILY, NFPROTO_IPV4);
  nlm_put_be32(m, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
  nlm_put_be32(m, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
  expr_end(m);
  rule_end(m);
}

int nft_ports_table(struct nl *nl, const char *t, const struct net_port *ports, const unsigned *host_ports, size_t n) {
  struct nlm m;
  nlm_init(&m);
  batch(nl, &m, NFNL_MSG_BATCH_BEGIN);
  table(nl, &m, t, NFT_TABLE_F_OWNER, NLM_F_EXCL);
  chain(nl, &m, t, "prerouting", "nat", NF_INET_PRE_ROUTING, PRI_NAT_DST);
  chain(nl, &m, t, "output", "nat", NF_INET_LOCAL_OUT, PRI_NAT_DST);
  for (size_t i = 0; i < n; i++) {
    dnat_rule(nl, &m, t, "prerouting", &ports[i], host_ports[i]);
    dnat_rule(nl, &m, t, "output", &ports[i], host_ports[i]);
  }
  batch(nl, &m, NFNL_MSG_BATCH_END);
  if (nl_send(nl, &m, NULL, NULL) < 0)
    return errno == EEXIST ? failx("create the firewall table %s: it exists (is the container running twice?)", t)
                           : nl_failed(nl, "create the firewall table", t);
  return 0;
}
