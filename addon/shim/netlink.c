/* Netlink sockets and messages (rtnetlink and nfnetlink): a small builder and one send/ack loop. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A netlink socket of the current network namespace, or of netns_fd's; -1 with a failure recorded. */
static int socket_in(int proto, int netns_fd) {
  if (netns_fd < 0) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
    return fd < 0 ? fail("create a netlink socket") : fd;
  }
  /* a socket belongs to the namespace it was made in: enter, make it, come back */
  cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return fail("open /proc/self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0) return fail("join the container's network namespace");
  cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  int e = errno;
  /* cannot fail short of a kernel bug; going on in the wrong namespace is not an option */
  if (setns(self, CLONE_NEWNET) < 0) return fail("return to the shim's network namespace");
  errno = e;
  return fd < 0 ? fail("create a netlink socket in the container's network namespace") : take_fd(&fd);
}

int nl_open(struct nl *nl, int proto, int netns_fd) {
  memset(nl, 0, sizeof *nl);
  nl->fd = -1;
  cleanup_close int fd = socket_in(proto, netns_fd);
  if (fd < 0) return -1;
  int one = 1, big = 1 << 20;
  /* the kernel's own error text (NLMSGERR_ATTR_MSG) and no copy of the request in errors */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    return fail("bind a netlink socket");
  nl->fd = take_fd(&fd);
  nl->proto = proto;
  nl->portid = sa.nl_pid;
  nl->seq = (uint32_t)getpid() << 12;
  return 0;
}

void nl_close(struct nl *nl) {
  close_fd(&nl->fd);
}

void nlm_init(struct nlm *m) { memset(m, 0, sizeof *m); }
void nlm_free(struct nlm *m) {
  free(m->buf);
  nlm_init(m);
}

static void *room(struct nlm *m, size_t n) {
  size_t need = m->len + NLMSG_ALIGN(n);
  if (need > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < need) cap *= 2;
    char *b = realloc(m->buf, cap);
    if (!b) {
      fputs("Error: out of memory\n", stderr);
      exit(EXIT_SHIM);
    }
    memset(b + m->cap, 0, cap - m->cap);
    m->buf = b;
    m->cap = cap;
  }
  void *p = m->buf + m->len;
  memset(p, 0, NLMSG_ALIGN(n));
  m->len = need;
  return p;
}

static void close_msg(struct nlm *m) {
  if (m->count) ((struct nlmsghdr *)(m->buf + m->msg))->nlmsg_len = (uint32_t)(m->len - m->msg);
}

static void start_msg(struct nl *nl, struct nlm *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen) {
  close_msg(m);
  m->msg = m->len;
  struct nlmsghdr *h = room(m, NLMSG_HDRLEN);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags | NLM_F_REQUEST;
  h->nlmsg_seq = ++nl->seq;
  if (hdrlen) memcpy(room(m, hdrlen), hdr, hdrlen);
  m->count++;
  m->depth = 0;
}

void nlm_msg(struct nl *nl, struct nlm *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen) {
  start_msg(nl, m, type, flags | NLM_F_ACK, hdr, hdrlen);
  m->acks++;
  if (flags & NLM_F_DUMP) m->dump = true;
}

void nlm_marker(struct nl *nl, struct nlm *m, uint16_t type, const void *hdr, size_t hdrlen) {
  start_msg(nl, m, type, 0, hdr, hdrlen);
}

void nlm_put(struct nlm *m, uint16_t type, const void *data, size_t len) {
  struct nlattr *a = room(m, NLA_HDRLEN + len);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  if (len) memcpy((char *)a + NLA_HDRLEN, data, len);
}
void nlm_raw(struct nlm *m, const void *data, size_t len) { memcpy(room(m, len), data, len); }
void nlm_put_str(struct nlm *m, uint16_t type, const char *s) { nlm_put(m, type, s, strlen(s) + 1); }
void nlm_put_u8(struct nlm *m, uint16_t type, uint8_t v) { nlm_put(m, type, &v, 1); }
void nlm_put_u32(struct nlm *m, uint16_t type, uint32_t v) { nlm_put(m, type, &v, 4); }
void nlm_put_be32(struct nlm *m, uint16_t type, uint32_t v) {
  uint32_t be = htonl(v);
  nlm_put(m, type, &be, 4);
}

void nlm_nest(struct nlm *m, uint16_t type) {
  if (m->depth >= (int)(sizeof m->nest / sizeof m->nest[0])) abort(); /* a programming error */
  m->nest[m->depth++] = m->len;
  struct nlattr *a = room(m, NLA_HDRLEN);
  a->nla_type = type | NLA_F_NESTED;
}

void nlm_nest_end(struct nlm *m) {
  size_t off = m->nest[--m->depth];
  ((struct nlattr *)(m->buf + off))->nla_len = (uint16_t)(m->len - off);
}

const struct nlattr *nla_first(const void *start, size_t len) {
  const struct nlattr *a = start;
  if (len < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > len) return NULL;
  return a;
}

const struct nlattr *nla_next(const struct nlattr *a, size_t *rest) {
  size_t step = NLA_ALIGN(a->nla_len);
  if (step >= *rest) return NULL;
  *rest -= step;
  return nla_first((const char *)a + step, *rest);
}

/* The extended ack's message attribute of an error, if the kernel sent one. */
static void ext_ack_text(const struct nlmsghdr *h, char *why, size_t whylen) {
  if (!why || !whylen) return;
  why[0] = 0;
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  const struct nlmsgerr *e = NLMSG_DATA(h);
  size_t off = NLMSG_HDRLEN + sizeof *e; /* NETLINK_CAP_ACK: the request is not copied back */
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  if (off >= h->nlmsg_len) return;
  size_t rest = h->nlmsg_len - off;
  for (const struct nlattr *a = nla_first((const char *)h + off, rest); a; a = nla_next(a, &rest)) {
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
      snprintf(why, whylen, "%.*s", (int)nla_len(a), (const char *)nla_data(a));
      return;
    }
  }
}

int nl_talk(struct nl *nl, struct nlm *m, nl_reply_fn each, void *arg, char *why, size_t whylen) {
  if (why && whylen) why[0] = 0;
  close_msg(m);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t w;
  while ((w = sendto(nl->fd, m->buf, m->len, 0, (struct sockaddr *)&kernel, sizeof kernel)) < 0 && errno == EINTR) {}
  if (w < 0) return -errno;
  if ((size_t)w != m->len) return -EMSGSIZE;
  /* Every message but batch markers asked for an ack; a dump ends with NLMSG_DONE instead. The
     kernel handles a request inside sendto(), so all acks are queued by now: read what is there (a
     missing ack cannot hang us). A dump is produced while we read: read until its end. */
  uint32_t first = ((struct nlmsghdr *)m->buf)->nlmsg_seq, last = nl->seq;
  unsigned pending = m->acks;
  int err = 0;
  static char buf[65536] __attribute__((aligned(4)));
  while (pending) {
    ssize_t n = recv(nl->fd, buf, sizeof buf, m->dump ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -errno;
    }
    size_t rest = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
      if (h->nlmsg_seq < first || h->nlmsg_seq > last) continue; /* not ours (a late reply) */
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        pending--;
        if (e->error && !err) {
          err = e->error;
          ext_ack_text(h, why, whylen);
        }
      } else if (h->nlmsg_type == NLMSG_DONE) {
        pending--;
      } else if (each && !err) {
        int r = each(h, arg);
        if (r < 0) err = r;
      }
    }
  }
  return err;
}

/* ---- addresses ---- */

int net_addr_parse(const char *text, bool with_prefix, struct net_addr *out) {
  memset(out, 0, sizeof *out);
  out->prefix = -1;
  if (!text) return failx("network plan: missing address");
  char buf[64];
  snprintf(buf, sizeof buf, "%s", text);
  char *slash = strchr(buf, '/');
  if (slash) *slash = 0;
  if (inet_pton(AF_INET, buf, out->a) != 1) return failx("network plan: %s is not an IPv4 address", text);
  out->family = AF_INET;
  if (slash) {
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || p < 0 || p > 32) return failx("network plan: bad prefix length in %s", text);
    out->prefix = (int)p;
  }
  if (with_prefix && out->prefix < 0) return failx("network plan: %s needs a prefix length", text);
  return 0;
}

void net_addr_format(const struct net_addr *a, char *out, size_t len) {
  if (!inet_ntop(a->family ? a->family : AF_INET, a->a, out, (socklen_t)len)) snprintf(out, len, "?");
}

int mac_parse(const char *text, unsigned char mac[6]) {
  unsigned v[6];
  char tail;
  if (!text || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
    return failx("network plan: %s is not a MAC address", text ? text : "(null)");
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return 0;
}

int nl_send(struct nl *nl, struct nlm *m, nl_reply_fn each, void *arg) {
  int r = nl_talk(nl, m, each, arg, nl->why, sizeof nl->why);
  nlm_free(m);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  return 0;
}

int nl_failed(const struct nl *nl, const char *what, const char *name) {
  int e = errno;
  const char *why = nl->why;
  return failx("%s%s%s: %s%s%s%s", what, name[0] ? " " : "", name, strerror(e), why[0] ? " (" : "", why, why[0] ? ")" : "");
}
