/*
 * Setup and teardown of a network plan (net.h). Setup, for each interface, under the networks lock:
 *   bridge (made when missing: address = gateway, route_localnet, up) → the network's nf_tables table
 *   → veth pair, the peer made straight in the container's namespace with its final name and MAC
 *   → host end enslaved and up → in the namespace: address, up, default route → DNS entry;
 * then the host ports (bound here and held: a reservation, as Docker's and Podman's) and the port
 * table (owned by our socket), or pasta for a rootless container. Any failure undoes all of it.
 * A container's start (cmd_run.c, its network step) sets the interfaces and pasta up for each start
 * of its init (a restart has a new namespace) and keeps the host ports for the container's life.
 * Teardown removes the host ends of the veths and the DNS entries, then a bridge with no port left
 * and its table: after it nothing of the container is on the host. The kernel's deletions of links
 * (RCU grace periods: tens of ms) happen outside the networks lock (net.h net_teardown_held).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

void net_held_init(struct net_held *h) {
  memset(h, 0, sizeof *h);
  h->nft_fd = -1;
  h->pasta = -1;
  h->pasta_ready = -1;
  h->pasta_log = -1;
  h->pasta_nl = -1;
  h->pasta_late = -1;
  h->fwd_fd = -1;
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Adds the time since *t to phase ph and restarts the clock. */
static void lap(struct net_held *h, enum net_phase ph, long long *t) {
  long long n = now_us();
  h->us[ph] += n - *t;
  *t = n;
}

/* The networks lock (bridges, tables and DNS files are shared by the store's containers). */
static int lock_networks(const char *file) {
  cleanup_close int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail("open %s", file);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return fail("lock %s", file);
  return take_fd(&fd);
}

static int write_sysctl(const char *path, const char *value) {
  char cur[16] = "";
  {
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cur, sizeof cur - 1) : -1;
    if (n > 0 && !strncmp(cur, value, strlen(value))) return 0; /* no write when it is set (read-only /proc/sys) */
  }
  return write_file_at(AT_FDCWD, path, value, strlen(value));
}

/* The bridge of a network, made (with its address, route_localnet and up) when missing. */
static int ensure_bridge(struct nl *host, const struct net_network *n, bool *created) {
  *created = false;
  int idx = rt_link_index(host, n->bridge);
  if (idx < 0) return -1;
  if (idx == 0) {
    if (rt_bridge_add(host, n->bridge, n->mtu) < 0) {
      if (errno != EEXIST) return -1;
    } else {
      *created = true;
    }
    if ((idx = rt_link_index(host, n->bridge)) <= 0) return idx < 0 ? -1 : failx("bridge %s vanished", n->bridge);
  } else {
    char kind[32];
    if (rt_link_kind(host, n->bridge, kind, sizeof kind) < 0) return -1;
    if (strcmp(kind, "bridge"))
      return failx("link %s exists and is not a bridge (%s): remove it or give the network another bridge name", n->bridge,
                   kind[0] ? kind : "no kind");
  }
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
  if (rt_addr_add(host, idx, &n->gateway) < 0 || write_sysctl(path, "1") < 0 || rt_link_up(host, idx, 0) < 0) return -1;
  return idx;
}

/* Delete the bridge and its table when no port is left on it (also: the table of a bridge that is gone). */
static int gc_bridge(struct nl *host, struct nl *nf, const struct net_network *n) {
  int idx = rt_link_index(host, n->bridge);
  if (idx < 0) return -1;
  if (idx > 0) {
    int ports = rt_bridge_ports(host, idx);
    if (ports != 0) return ports < 0 ? -1 : 0;
    if (rt_link_del(host, n->bridge) < 0) return -1;
  }
  return nft_table_del(nf, n->table);
}

/* ---- host ports ---- */

static const char *proto_name(int proto) { return proto == IPPROTO_TCP ? "tcp" : "udp"; }

static int reserve(const struct net_plan *p, const struct net_port *pt, unsigned *got, int *fd_out) {
  unsigned first = pt->host_port, last = pt->host_port_end;
  int type = pt->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  for (unsigned port = first;; port++) {
    cleanup_close int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("create a socket for a host port");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (pt->has_host_ip) memcpy(&sa.sin_addr, pt->host_ip.a, 4);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
      socklen_t len = sizeof sa;
      if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) return fail("read the bound host port");
      *got = ntohs(sa.sin_port);
      *fd_out = take_fd(&fd);
      return 0;
    }
    int e = errno;
    if ((e != EADDRINUSE || port >= last) || !first) {
      char hip[64] = "0.0.0.0", cip[64], ports[32];
      if (pt->has_host_ip) net_addr_format(&pt->host_ip, hip, sizeof hip);
      net_addr_format(&pt->container_ip, cip, sizeof cip);
      if (first == last || !first) snprintf(ports, sizeof ports, "%u", first);
      else snprintf(ports, sizeof ports, "%u-%u", first, last);
      /* Docker's words (Go's error text: lowercase) */
      return failx("driver failed programming external connectivity on endpoint %s: failed to bind host port for "
                   "%s:%s:%s:%u/%s: %s",
                   p->endpoint, hip, ports, cip, pt->container_port, proto_name(pt->proto),
                   e == EADDRINUSE ? "address already in use" : e == EACCES ? "permission denied" : strerror(e));
    }
  }
}

/* Close the host ports' sockets and the port table's (the kernel drops the table with it). */
static void release_ports(struct net_held *h) {
  close_fd(&h->nft_fd);
  for (size_t i = 0; i < h->nport_fds; i++) close_fd(&h->port_fds[i]);
  free(h->port_fds);
  free(h->bound_ports);
  h->port_fds = NULL;
  h->bound_ports = NULL;
  h->nport_fds = 0;
}

/* Reserve the host ports and make the port table; on failure nothing is held. */
static int hold_ports(const struct net_plan *p, struct net_held *h) {
  h->port_fds = xcalloc(p->nports, sizeof *h->port_fds);
  h->bound_ports = xcalloc(p->nports, sizeof *h->bound_ports);
  for (size_t i = 0; i < p->nports; i++) {
    if (reserve(p, &p->ports[i], &h->bound_ports[i], &h->port_fds[i]) < 0) return release_ports(h), -1;
    h->nport_fds++;
  }
  struct nl nf = NL_NONE;
  if (nl_open(&nf, NETLINK_NETFILTER, -1) < 0 || nft_ports_table(&nf, p->ports_table, p->ports, h->bound_ports, p->nports) < 0)
    return nl_close(&nf), release_ports(h), -1;
  h->nft_fd = take_fd(&nf.fd); /* the table lives as long as this socket */
  return 0;
}

/* ---- pasta (rootless) ---- */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* The last line of what a helper wrote to fd (a memfd) that is not syslog noise. */
static void last_line(int fd, char *out, size_t len) {
  out[0] = 0;
  char buf[8192];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return;
  buf[n] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
    if (!strstr(line, "to syslog") && line[0]) snprintf(out, len, "%s", line);
}

static void stop_pasta(struct net_held *h) {
  close_fd(&h->pasta_ready); /* spawned, never waited for */
  close_fd(&h->pasta_log);
  close_fd(&h->pasta_nl);
  close_fd(&h->pasta_late);
  if (h->pasta <= 0) return;
  kill(h->pasta, SIGTERM);
  for (int i = 0; i < 100; i++) { /* up to ~1 s, then SIGKILL */
    pid_t w = waitpid(h->pasta, NULL, WNOHANG);
    if (w == h->pasta || (w < 0 && errno == ECHILD)) break;
    if (i == 99) {
      kill(h->pasta, SIGKILL);
      while (waitpid(h->pasta, NULL, 0) < 0 && errno == EINTR) {}
    }
    sleep_ms(10);
  }
  h->pasta = -1;
}

/* The file to run for pasta `path`: pasta's start re-executes itself as <its file>.avx2 when the CPU
   has AVX2 and that build exists (passt's arch.c: the Debian package ships both), one exec (~1.5 ms)
   saved by running that build straight away; argv[0] stays `path` (pasta takes its mode from its name). */
static const char *pasta_file(const char *path, char *buf, size_t len) {
  char real[PATH_MAX];
  if (!realpath(path, real)) return path;
  size_t n = strlen(real);
  if (n >= 5 && strcmp(real + n - 5, ".avx2") == 0) return path;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2")) return path;
  if (snprintf(buf, len, "%s.avx2", real) >= (int)len || access(buf, X_OK) < 0) return path;
  return buf;
}

/* pasta -f (stays our child, dies with us: PDEATHSIG) ... -P /proc/self/fd/N TARGET: it writes its pid
   to N once the namespace is configured and the ports are bound: that is our "ready", which
   net_wait_pasta waits for (N's other end in h->pasta_ready, pasta's stderr in h->pasta_log). TARGET is
   `target`'s PID, or the namespaces given as descriptors: `--userns` `userns_fd` (-1: none) and
   `--netns` `netns_fd`, passed as /proc/self/fd/N. */
static int spawn_pasta(const char *path, char **args, pid_t target, int userns_fd, int netns_fd, struct net_held *h) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return fail("pipe for pasta");
  cleanup_close int rd = ready[0];
  cleanup_close int wr = ready[1];
  size_t n = 0;
  while (args[n]) n++;
  cleanup_free char **argv = xcalloc(n + 10, sizeof *argv);
  char fdpath[64], pidbuf[64], userbuf[64];
  size_t k = 0;
  argv[k++] = (char *)path;
  for (size_t i = 0; i < n; i++) argv[k++] = args[i];
  argv[k++] = "-f";
  argv[k++] = "-P";
  argv[k++] = fdpath;
  if (userns_fd >= 0) {
    argv[k++] = "--userns";
    argv[k++] = userbuf;
  }
  /* a namespace file goes after --netns: a bare path would be read as a command for pasta to run
     in a namespace of its own (its synopsis: PID, --netns PATH, or COMMAND) */
  if (netns_fd >= 0) argv[k++] = "--netns";
  argv[k++] = pidbuf;
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)target);
  cleanup_close int log = memfd_create("pasta-stderr", MFD_CLOEXEC);
  if (log < 0) return fail("start pasta: memfd_create");
  char filebuf[PATH_MAX + 8];
  const char *file = pasta_file(path, filebuf, sizeof filebuf);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return fail("start pasta");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* an ignored SIGPIPE survives execve (node ignores it, and `run` execs the shim from node):
       pasta then takes signal()'s non-zero answer for a failure ("Couldn't install signal handlers") */
    signal(SIGPIPE, SIG_DFL);
    int fd = dup(wr); /* without O_CLOEXEC: pasta opens /proc/self/fd/<fd> */
    int null = open("/dev/null", O_RDWR);
    if (fd < 0 || null < 0) _exit(127);
    dup2(null, 0);
    dup2(null, 1);
    dup2(log, 2); /* a file, not a pipe: nobody reads it while pasta runs, and a full pipe would stall it */
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    if (userns_fd >= 0) {
      int ufd = dup(userns_fd); /* without O_CLOEXEC, as the others */
      if (ufd < 0) _exit(127);
      snprintf(userbuf, sizeof userbuf, "/proc/self/fd/%d", ufd);
    }
    if (netns_fd >= 0) {
      int nfd = dup(netns_fd); /* without O_CLOEXEC: pasta opens /proc/self/fd/<nfd> */
      if (nfd < 0) _exit(127);
      snprintf(pidbuf, sizeof pidbuf, "/proc/self/fd/%d", nfd);
    }
    execv(file, argv);
    _exit(127);
  }
  close_fd(&wr);
  h->pasta = pid;
  h->pasta_ready = take_fd(&rd);
  h->pasta_log = take_fd(&log);
  h->pasta_path = path;
  return 0;
}

/* Whether what waits on `nl` (net_watch_pasta's socket) shows an IPv4 default route in the main table;
   -1 when the socket failed (an overrun: the caller then waits for pasta's ready alone). */
static int default_route_seen(int nl) {
  char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
  ssize_t n;
  while ((n = recv(nl, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_type != RTM_NEWROUTE || m->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg))) continue;
      const struct rtmsg *r = NLMSG_DATA(m);
      if (r->rtm_family == AF_INET && r->rtm_dst_len == 0 && r->rtm_table == RT_TABLE_MAIN) return 1;
    }
  }
  return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

int net_wait_pasta(struct net_held *h) {
  if (h->pasta_ready < 0) return 0;
  cleanup_close int rd = take_fd(&h->pasta_ready);
  cleanup_close int log = take_fd(&h->pasta_log);
  cleanup_close int nl = take_fd(&h->pasta_nl);
  char buf[32];
  ssize_t got = 0;
  struct pollfd pfd[2] = {{rd, POLLIN, 0}, {nl, POLLIN, 0}}; /* a negative fd: not polled */
  long long deadline = now_us() + 20000000LL;
  int r;
  for (;;) {
    long long left = (deadline - now_us()) / 1000;
    r = poll(pfd, 2, left > 0 ? (int)left : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || pfd[0].revents) break;
    int seen = default_route_seen(nl);
    if (seen > 0) {
      h->pasta_late = take_fd(&rd); /* the namespace is configured: pasta finishes its start alone */
      h->pasta_log = take_fd(&log); /* its last words, should it end while the container runs (net_pasta_ended) */
      return 0;
    }
    if (seen < 0) pfd[1].fd = -1, close_fd(&nl);
  }
  if (r > 0) got = read(rd, buf, sizeof buf - 1);
  if (got > 0) {
    h->pasta_log = take_fd(&log);
    return 0;
  }
  int e = errno, st = 0;
  pid_t pid = h->pasta;
  if (r <= 0) kill(pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  h->pasta = -1;
  char why[512];
  last_line(log, why, sizeof why);
  if (r < 0) return errno = e, fail("wait for pasta");
  if (r == 0) return failx("pasta did not configure the network within 20 s");
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return failx("cannot run %s", h->pasta_path);
  return failx("pasta failed to set up the network: %s", why[0] ? why : "no reason given");
}

/* The fixed TCP host ports of a rootless container's pasta (its -t values, [ADDRESS/]HOSTPORT:CTRPORT)
   test-bound here, as the rootful path binds them, so that a taken port fails in Docker's words (pasta
   alone would only say it could not bind). src/network/pasta.ts leaves them to this; UDP ports are left
   to pasta, as before (a UDP test bind cannot tell SO_REUSEADDR sharers apart). */
static int pasta_ports_free(const struct net_plan *p) {
  char **a = p->pasta.args;
  for (size_t i = 0; a[i] && a[i + 1]; i++) {
    if (strcmp(a[i], "-t") != 0) continue;
    const char *spec = a[++i], *port = spec, *slash = strchr(spec, '/');
    if (strcmp(spec, "none") == 0 || strpbrk(spec, ",-~%")) continue; /* not one port: pasta judges it */
    char addr[64] = "0.0.0.0";
    if (slash) {
      snprintf(addr, sizeof addr, "%.*s", (int)(slash - spec), spec);
      port = slash + 1;
    }
    const char *colon = strchr(port, ':');
    unsigned host = (unsigned)strtoul(port, NULL, 10), ctr = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : host;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)host)};
    if (!host || host > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) continue;
    cleanup_close int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail("create a socket for a host port");
    int one = 1; /* as pasta's own listening socket, and node's: a port in TIME_WAIT is free */
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return fail("set SO_REUSEADDR on a host port's socket");
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0) continue;
    int e = errno;
    /* Docker's words (Go's error text: lowercase) */
    return failx("driver failed programming external connectivity on endpoint %s: failed to bind host port for %s:%u:%u/tcp: %s",
                 p->endpoint, addr, host, ctr,
                 e == EADDRINUSE ? "address already in use" : e == EADDRNOTAVAIL ? "cannot assign requested address"
                 : e == EACCES ? "permission denied" : strerror(e));
  }
  return 0;
}

int net_spawn_pasta(const struct net_plan *p, pid_t target, struct net_held *h) {
  if (pasta_ports_free(p) < 0) return -1;
  /* A target in our own user namespace (a container started by a process already inside skiff's
     user namespace: the rootless API service) is given as its network namespace, opened here and
     passed as /proc/self/fd/N (pasta then joins only that): joining by PID makes pasta open the
     target's user namespace, which it may not there (EACCES). Otherwise by PID (pasta joins the
     container's user namespace first, which it needs to enter a namespace that one owns). */
  char upath[48];
  snprintf(upath, sizeof upath, "/proc/%d/ns/user", (int)target);
  struct stat ours, theirs;
  cleanup_close int netns = -1;
  if (stat("/proc/self/ns/user", &ours) == 0 && stat(upath, &theirs) == 0 && ours.st_ino == theirs.st_ino &&
      ours.st_dev == theirs.st_dev) {
    char npath[48];
    snprintf(npath, sizeof npath, "/proc/%d/ns/net", (int)target);
    netns = open(npath, O_RDONLY | O_CLOEXEC);
    if (netns < 0) return fail("open %s for pasta", npath);
  }
  return spawn_pasta(p->pasta.path, p->pasta.args, target, -1, netns, h);
}

/* The helper of net_watch_pasta: a process of its own for the user namespace (joined only by one
   with a single thread and fs of its own), sharing our memory and descriptors (as pasta's NS_CALL). */
struct ns_socket {
  int userns, netns, fd, err;
};

static int ns_socket_in(void *arg) {
  struct ns_socket *a = arg;
  if ((a->userns >= 0 && setns(a->userns, CLONE_NEWUSER) < 0) || setns(a->netns, CLONE_NEWNET) < 0) return a->err = errno, 1;
  a->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  return a->fd < 0 ? (a->err = errno, 1) : 0;
}

/* /proc/PID/ns/NAME open, or -1 with the failure recorded. */
static int open_ns(pid_t pid, const char *name) {
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd < 0 ? fail("open %s", path) : fd;
}

int net_watch_pasta(pid_t target, struct net_held *h) {
  cleanup_close int netns = open_ns(target, "net");
  if (netns < 0) return -1;
  cleanup_close int userns = open_ns(target, "user");
  if (userns < 0) return -1;
  struct stat ours, theirs;
  if (fstat(userns, &theirs) < 0 || stat("/proc/self/ns/user", &ours) < 0) return fail("stat the user namespaces");
  if (ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev) close_fd(&userns); /* ours: only the netns */
  static char stack[16384] __attribute__((aligned(16)));
  struct ns_socket a = {userns, netns, -1, 0};
  pid_t pid = clone(ns_socket_in, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &a);
  if (pid < 0) return fail("start a helper in the container's network namespace");
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  if (a.fd < 0) return errno = a.err, fail("open a netlink socket in the container's network namespace");
  cleanup_close int fd = a.fd;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_ROUTE};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return fail("bind a netlink socket to the container's routes");
  /* and the routes there now (pasta may be that far already): asked after subscribing, nothing is missed */
  struct {
    struct nlmsghdr h;
    struct rtmsg r;
  } req = {{.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
           {.rtm_family = AF_INET}};
  if (send(fd, &req, sizeof req, 0) < 0) return fail("ask for the container's routes");
  h->pasta_nl = take_fd(&fd);
  return 0;
}

void net_pasta_ended(struct net_held *h, int status, char *out, size_t len) {
  char why[512] = "";
  if (h->pasta_log >= 0) last_line(h->pasta_log, why, sizeof why);
  if (WIFSIGNALED(status))
    snprintf(out, len, "pasta was killed by signal %d (%s)%s%s", WTERMSIG(status), strsignal(WTERMSIG(status)), why[0] ? ": " : "", why);
  else
    snprintf(out, len, "pasta exited with status %d%s%s", WEXITSTATUS(status), why[0] ? ": " : "", why);
  h->pasta = -1; /* reaped: nobody signals that pid again */
  stop_pasta(h);  /* its descriptors only, then */
}

int net_start_pasta(const struct net_plan *p, pid_t target, struct net_held *h) {
  if (net_spawn_pasta(p, target, h) < 0) return -1;
  return net_wait_pasta(h);
}

int net_start_pasta_in(const char *path, char **args, int userns_fd, int netns_fd, struct net_held *h) {
  if (spawn_pasta(path, args, 0, userns_fd, netns_fd, h) < 0) return -1;
  return net_wait_pasta(h);
}

/* ---- host-port forwards of rootless user networks (the holder's side: cmd_netns.c) ---- */

/* The forward's tap in the container's namespace (net.h FWD_*): up, FWD_ADDR/32, and what leaves from
   that address goes back through it (the container's default route is its bridge's). */
static int forward_tap(int netns_fd) {
  cleanup_nl struct nl ctr = NL_NONE;
  if (nl_open(&ctr, NETLINK_ROUTE, netns_fd) < 0) return -1;
  int idx = rt_link_index(&ctr, FWD_IFNAME);
  if (idx <= 0) return idx < 0 ? -1 : failx("the port forward's %s is not in the container's network namespace", FWD_IFNAME);
  struct net_addr addr, gw;
  if (net_addr_parse(FWD_ADDR "/32", true, &addr) < 0 || net_addr_parse(FWD_GW, false, &gw) < 0) return -1;
  if (rt_addr_add(&ctr, idx, &addr) < 0 || rt_link_up(&ctr, idx, 0) < 0) return -1;
  if (rt_route_add_in(&ctr, idx, NULL, &gw, FWD_TABLE, true) < 0) return -1;
  return rt_rule_add_from(&ctr, &addr, FWD_TABLE, FWD_RULE_PRIORITY);
}

/* Ask the holder for this start's forwards: the namespace by SCM_RIGHTS, pasta's port options
   (NUL-separated, from the ports bound for this container), one "ok" or the reason back. The
   connection stays open in h->fwd_fd: ending it (net_stop: end_forward; our exit) ends the forward. */
static int request_forward(const struct net_plan *p, int netns_fd, struct net_held *h) {
  char msg[4096];
  size_t len = 0;
  for (size_t i = 0; i < p->nports; i++) {
    const struct net_port *pt = &p->ports[i];
    char ip[64] = "", spec[128];
    if (pt->has_host_ip) net_addr_format(&pt->host_ip, ip, sizeof ip);
    int w = snprintf(spec, sizeof spec, "%s%s%u:%u", ip, ip[0] ? "/" : "", h->bound_ports[i], pt->container_port);
    const char *opt = pt->proto == IPPROTO_UDP ? "-u" : "-t";
    if (w < 0 || len + 3 + (size_t)w + 1 > sizeof msg) return failx("too many published ports to forward");
    memcpy(msg + len, opt, 3);
    len += 3;
    memcpy(msg + len, spec, (size_t)w + 1);
    len += (size_t)w + 1;
  }
  cleanup_close int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket for the port forward");
  /* the runroot may be deep: connect through the directory's descriptor (sun_path holds 108 bytes) */
  cleanup_free char *dir = xstrdup(p->forward_socket);
  char *slash = strrchr(dir, '/');
  if (!slash || !slash[1]) return failx("forward socket %s: not a path", p->forward_socket);
  *slash = 0;
  cleanup_close int dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail("open %s (the rootless network namespace's directory)", dir);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1) >= (int)sizeof sa.sun_path)
    return failx("forward socket name too long: %s", slash + 1);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) return fail("connect to %s (the rootless network namespace's holder)", p->forward_socket);
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {msg, len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &netns_fd, sizeof(int));
  if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0) return fail("send the port forward request");
  char reply[1024];
  struct pollfd pfd = {s, POLLIN, 0};
  int r;
  while ((r = poll(&pfd, 1, 30000)) < 0 && errno == EINTR) {}
  if (r < 0) return fail("wait for the port forward");
  if (r == 0) return failx("the rootless network namespace's holder did not forward the ports within 30 s");
  ssize_t got = recv(s, reply, sizeof reply - 1, 0);
  if (got < 0) return fail("read the port forward's answer");
  reply[got > 0 ? got : 0] = 0;
  if (got == 0) return failx("the rootless network namespace's holder ended before it forwarded the ports");
  if (!strncmp(reply, "failed to bind host port", 24))
    return failx("driver failed programming external connectivity on endpoint %s: %s", p->endpoint, reply);
  if (strcmp(reply, "ok")) return failx("%s", reply);
  if (forward_tap(netns_fd) < 0) return -1; /* closing `s` ends the forward */
  h->fwd_fd = take_fd(&s);
  return 0;
}

/* ---- setup ---- */

struct made {
  bool bridge, veth, dns;
};

static void undo(const struct net_plan *p, struct made *m, size_t n, struct nl *host) {
  char saved[1536];
  snprintf(saved, sizeof saved, "%s", failure());
  cleanup_nl struct nl nf = NL_NONE;
  nl_open(&nf, NETLINK_NETFILTER, -1);
  for (size_t i = 0; i < n; i++) {
    const struct net_iface *f = &p->ifaces[i];
    if (m[i].dns) dns_remove(f, p->container_id);
    if (m[i].veth) rt_link_del(host, f->host_name);
  }
  for (size_t i = 0; i < n; i++)
    if (m[i].bridge && nf.fd >= 0) gc_bridge(host, &nf, &p->ifaces[i].net);
  failx("%s", saved); /* the first failure is the one to report */
}

static int setup_iface(const struct net_plan *p, const struct net_iface *f, struct nl *host, struct nl *nf,
                       struct nl *ctr, int netns_fd, struct made *m, struct net_held *h, long long *t) {
  int br = ensure_bridge(host, &f->net, &m->bridge);
  if (br < 0) return -1;
  lap(h, PH_BRIDGE, t);
  if (nft_network_ensure(nf, &f->net) < 0) return -1;
  if (!f->net.internal && write_sysctl("/proc/sys/net/ipv4/ip_forward", "1") < 0) return -1;
  lap(h, PH_FIREWALL, t);
  const unsigned char *mac = f->has_mac ? f->mac : NULL;
  if (rt_veth_add(host, f->host_name, f->name, netns_fd, mac, f->net.mtu) < 0) {
    /* the name is this container's: a link that has it is left by an earlier run of it whose
       namespace the kernel has not finished removing */
    if (errno != EEXIST || rt_link_del(host, f->host_name) < 0 ||
        rt_veth_add(host, f->host_name, f->name, netns_fd, mac, f->net.mtu) < 0)
      return -1;
  }
  m->veth = true;
  int hidx = rt_link_index(host, f->host_name);
  if (hidx <= 0) return hidx < 0 ? -1 : failx("veth %s vanished", f->host_name);
  size_t i = (size_t)(f - p->ifaces);
  if (i < NET_HELD_IFACES) h->veth_index[i] = hidx;
  if (rt_link_up(host, hidx, br) < 0 || rt_bridge_port_hairpin(host, hidx) < 0) return -1;
  lap(h, PH_VETH, t);
  int cidx = rt_link_index(ctr, f->name);
  if (cidx <= 0) return cidx < 0 ? -1 : failx("%s is not in the container's network namespace", f->name);
  if (rt_addr_add(ctr, cidx, &f->addr) < 0 || rt_link_up(ctr, cidx, 0) < 0) return -1;
  if (f->default_route && rt_route_add(ctr, cidx, NULL, &f->net.gateway) < 0) return -1;
  lap(h, PH_INSIDE, t);
  if (f->net.dns_dir && f->dns_names) {
    if (dns_add(p->aardvark, f, p->container_id, NULL) < 0) return -1;
    m->dns = true;
    lap(h, PH_DNS, t);
  }
  return 0;
}

/* Every interface of the plan, under the networks lock; on failure what was made is undone. */
static int setup_ifaces(const struct net_plan *p, int netns_fd, struct net_held *h, long long *t) {
  cleanup_close int lock = lock_networks(p->lock_file);
  if (lock < 0) return -1;
  lap(h, PH_LOCK, t);
  cleanup_nl struct nl host = NL_NONE;
  cleanup_nl struct nl nf = NL_NONE;
  cleanup_nl struct nl ctr = NL_NONE;
  if (nl_open(&host, NETLINK_ROUTE, -1) < 0 || nl_open(&nf, NETLINK_NETFILTER, -1) < 0 ||
      nl_open(&ctr, NETLINK_ROUTE, netns_fd) < 0)
    return -1;
  cleanup_free struct made *m = xcalloc(p->nifaces, sizeof *m);
  for (size_t i = 0; i < p->nifaces; i++)
    if (setup_iface(p, &p->ifaces[i], &host, &nf, &ctr, netns_fd, &m[i], h, t) < 0) return undo(p, m, i + 1, &host), -1;
  return 0;
}

int net_start(const struct net_plan *p, int netns_fd, pid_t pid, struct net_held *h) {
  memset(h->us, 0, sizeof h->us);
  memset(h->veth_index, 0, sizeof h->veth_index);
  long long t = now_us();
  if (p->nifaces && setup_ifaces(p, netns_fd, h, &t) < 0) return -1;
  t = now_us();
  int r = 0;
  /* pasta: started here unless the caller spawned it earlier (net_spawn_pasta), then only waited for */
  if (p->has_pasta) {
    r = h->pasta_ready >= 0 || net_spawn_pasta(p, pid, h) == 0 ? net_wait_pasta(h) : -1;
    lap(h, PH_PASTA, &t);
  }
  else if (p->nports && h->nft_fd < 0) r = hold_ports(p, h), lap(h, PH_PORTS, &t);
  /* each start has a namespace of its own: its forward too (a restart's old one went with net_stop) */
  if (r == 0 && p->forward_socket && p->nports) r = request_forward(p, netns_fd, h), lap(h, PH_PASTA, &t);
  if (r < 0) {
    char saved[1536];
    snprintf(saved, sizeof saved, "%s", failure());
    net_teardown(p);
    return failx("%s", saved);
  }
  return 0;
}

int net_setup(const struct net_plan *p, int netns_fd, pid_t pid, struct net_held *h) {
  net_held_init(h);
  return net_start(p, netns_fd, pid, h);
}

/* The host-port forward of a rootless container on a user network ended, and waited for: the holder
   ends a forward when its connection reads end-of-file (our shutdown), stops that forward's pasta
   (reaped: its host ports are closed) and then closes the connection, which reads end-of-file here.
   So the ports are free when the container's teardown returns, as Docker's are when `rm` returns
   (closing alone let `rm` return while the holder had not yet stopped that pasta). A holder that is
   gone answers at once; one that does not answer within 5 s is not waited for longer. */
static void end_forward(struct net_held *h) {
  if (h->fwd_fd < 0) return;
  if (shutdown(h->fwd_fd, SHUT_WR) == 0) {
    long long deadline = now_us() + 5000000LL;
    char buf[256];
    for (;;) {
      long long left = (deadline - now_us()) / 1000;
      if (left <= 0) break;
      struct pollfd pfd = {h->fwd_fd, POLLIN, 0};
      int r = poll(&pfd, 1, (int)left);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      ssize_t n = recv(h->fwd_fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break; /* ended (or the connection is gone) */
    }
  }
  close_fd(&h->fwd_fd);
}

void net_stop(struct net_held *h) {
  stop_pasta(h);
  end_forward(h);
}

void net_release(struct net_held *h) {
  net_stop(h);
  release_ports(h);
}

/* The name a bridge retired by interface f's teardown has until it is deleted: the host end's with 'S'
   for its 's' (sk<12 hex>N: Sk<12 hex>N), this container's and never a veth's. */
static void retired_name(const struct net_iface *f, char *out, size_t len) {
  snprintf(out, len, "S%s", f->host_name[0] ? f->host_name + 1 : "");
}

/* Under the lock: a bridge without ports leaves its network (net.h net_teardown_held): its address and
   table go, it is brought down and renamed, its index in *gone for the deletion after the lock. The
   retired name taken (this container's previous retired bridge, still being deleted): deleted here. */
static int retire_bridge(struct nl *host, struct nl *nf, const struct net_iface *f, int *gone) {
  const struct net_network *n = &f->net;
  *gone = 0;
  int idx = rt_link_index(host, n->bridge);
  if (idx < 0) return -1;
  if (idx > 0) {
    int ports = rt_bridge_ports(host, idx);
    if (ports != 0) return ports < 0 ? -1 : 0;
    char name[IFNAMSIZ];
    retired_name(f, name, sizeof name);
    if (rt_addr_del(host, idx, &n->gateway) < 0) return -1;
    if (rt_link_down_rename(host, idx, name) == 0) *gone = idx;
    else if (errno != EEXIST || rt_link_del_index(host, idx) < 0) return -1;
  }
  return nft_table_del(nf, n->table);
}

static int held_index(const struct net_held *h, size_t i) { return h && i < NET_HELD_IFACES ? h->veth_index[i] : 0; }

int net_teardown_held(const struct net_plan *p, const struct net_held *h) {
  if (!p->nifaces) return 0;
  cleanup_nl struct nl host = NL_NONE;
  cleanup_nl struct nl nf = NL_NONE;
  if (nl_open(&host, NETLINK_ROUTE, -1) < 0 || nl_open(&nf, NETLINK_NETFILTER, -1) < 0) return -1;
  cleanup_free int *retired = xcalloc(p->nifaces, sizeof *retired);
  char first[1536] = "";
  /* every step is tried; the first failure is the one reported */
#define KEEP_FIRST(call) \
  do { \
    if ((call) < 0 && !first[0]) snprintf(first, sizeof first, "%s", failure()); \
  } while (0)
  for (size_t i = 0; i < p->nifaces; i++)
    if (held_index(h, i)) KEEP_FIRST(rt_link_del_index(&host, held_index(h, i)));
  {
    cleanup_close int lock = lock_networks(p->lock_file);
    if (lock < 0) return -1;
    for (size_t i = 0; i < p->nifaces; i++) {
      const struct net_iface *f = &p->ifaces[i];
      int mine = held_index(h, i), now = 0;
      if (!mine) KEEP_FIRST(rt_link_del(&host, f->host_name));
      else if ((now = rt_link_index(&host, f->host_name)) < 0) KEEP_FIRST(now);
      /* a link of that name made since is a later start's (a restart right after a stop): so is the entry */
      if (f->net.dns_dir && f->dns_names && (now == 0 || now == mine)) KEEP_FIRST(dns_remove(f, p->container_id));
    }
    for (size_t i = 0; i < p->nifaces; i++) KEEP_FIRST(retire_bridge(&host, &nf, &p->ifaces[i], &retired[i]));
  }
  for (size_t i = 0; i < p->nifaces; i++) {
    char name[IFNAMSIZ];
    retired_name(&p->ifaces[i], name, sizeof name);
    if (retired[i]) KEEP_FIRST(rt_link_del_index(&host, retired[i]));
    else if (!h) KEEP_FIRST(rt_link_del(&host, name)); /* one a killed teardown left */
  }
#undef KEEP_FIRST
  return first[0] ? failx("%s", first) : 0;
}

int net_teardown(const struct net_plan *p) { return net_teardown_held(p, NULL); }

/* ---- status ---- */

static const char *const PHASES[PH_COUNT] = {"lock", "bridge", "firewall", "veth", "inside", "dns", "ports", "pasta"};

void net_trace(const struct net_held *h) {
  const char *on = getenv("SKIFF_TRACE_STARTUP");
  if (!on || strcmp(on, "1") != 0) return;
  char line[512];
  size_t len = (size_t)snprintf(line, sizeof line, "skiff-trace-net");
  for (int i = 0; i < PH_COUNT && len < sizeof line; i++)
    if (h->us[i]) len += (size_t)snprintf(line + len, sizeof line - len, " %s %.2f", PHASES[i], (double)h->us[i] / 1000.0);
  if (len < sizeof line - 1) {
    line[len++] = '\n';
    (void)!write(STDERR_FILENO, line, len);
  }
}

char *net_status(const struct net_plan *p, const struct net_held *h, int netns_fd) {
  cleanup_json json_t *o = json_object();
  json_t *ifs = json_array(), *ports = json_array();
  cleanup_nl struct nl ctr = NL_NONE;
  if (p->nifaces) nl_open(&ctr, NETLINK_ROUTE, netns_fd); /* without it: no MACs */
  for (size_t i = 0; i < p->nifaces; i++) {
    const struct net_iface *f = &p->ifaces[i];
    char addr[64], gw[64], mac[24] = "";
    net_addr_format(&f->addr, addr, sizeof addr);
    net_addr_format(&f->net.gateway, gw, sizeof gw);
    unsigned char m[6];
    int idx = ctr.fd >= 0 ? rt_link_index(&ctr, f->name) : -1;
    if (idx > 0 && rt_link_mac(&ctr, idx, m) == 0)
      snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    json_array_append_new(ifs, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "name", f->name, "hostName", f->host_name,
                                         "network", f->net.name, "address", addr, "prefixLen", f->addr.prefix, "gateway",
                                         gw, "mac", mac));
  }
  for (size_t i = 0; i < p->nports && h->bound_ports; i++) {
    const struct net_port *pt = &p->ports[i];
    char hip[64] = "";
    if (pt->has_host_ip) net_addr_format(&pt->host_ip, hip, sizeof hip);
    json_array_append_new(ports, json_pack("{s:s, s:s, s:i, s:i}", "proto", proto_name(pt->proto), "hostIp", hip,
                                           "hostPort", (int)h->bound_ports[i], "containerPort", (int)pt->container_port));
  }
  json_object_set_new(o, "interfaces", ifs);
  json_object_set_new(o, "ports", ports);
  if (h->pasta > 0) json_object_set_new(o, "pasta", json_integer(h->pasta));
  json_t *tm = json_object();
  for (int i = 0; i < PH_COUNT; i++)
    if (h->us[i]) json_object_set_new(tm, PHASES[i], json_integer(h->us[i]));
  json_object_set_new(o, "timingsUs", tm);
  return json_dumps(o, JSON_COMPACT);
}
