/*
 * `skiff-shim netns DIR UIDMAP GIDMAP PASTA [PASTA-ARG...] -- CMD...`: run CMD inside the user's
 * rootless network namespace (Podman's "rootless netns"), made on demand. Rootless containers on
 * user-defined networks are made from there: their user namespaces are children of its user
 * namespace, so root there may create the bridge, veths, nf_tables rules and aardvark-dns of the
 * rootful code inside it, and reach the containers' namespaces.
 *
 * DIR ($XDG_RUNTIME_DIR/skiff/netns) holds `lock` and `pid` (the holder's pid). Under the lock:
 * when no holder runs, one is started: a detached process (its own session) whose child is root
 * of a new user namespace (the rootless id maps) with a network and mount namespace of its own,
 * which waits; the holder attaches pasta (its child, from the host's network namespace: outbound
 * and the host's loopback through the gateway) with the arguments given, and
 * watches: once no process but its own is in that network namespace (the last container's shim
 * and monitor and aardvark-dns have gone), it takes the lock, removes `pid`, ends the waiting child
 * and pasta, and exits. Then CMD's process joins the user and network namespaces (while the lock
 * is held: the holder cannot end between the two), gets a mount namespace of its own, and execs
 * CMD as root there with _SKIFF_IN_USERNS=1 and _SKIFF_IN_NETNS=1.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

/* The holder's waiting child: pid, or 0 when none runs. `pid` holds "PID NETNS-INODE": a reused
   pid (a stale file) has another network namespace. */
static pid_t running_holder(int dirfd) {
  char buf[64] = "";
  cleanup_close int fd = openat(dirfd, "pid", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = 0;
  int pid = 0;
  unsigned long long ino = 0;
  if (sscanf(buf, "%d %llu", &pid, &ino) != 2 || pid <= 0) return 0;
  struct stat st;
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  if (stat(path, &st) < 0 || (unsigned long long)st.st_ino != ino) return 0;
  return (pid_t)pid;
}

/* Processes other than `a` and `b` whose network namespace is `ino`. */
static bool others_in(ino_t ino, pid_t a, pid_t b) {
  DIR *d = opendir("/proc");
  if (!d) return true; /* cannot tell: keep running */
  struct dirent *e;
  bool found = false;
  char path[300];
  struct stat st;
  while (!found && (e = readdir(d))) {
    pid_t pid = (pid_t)atoi(e->d_name);
    if (pid <= 0 || pid == a || pid == b || pid == getpid()) continue;
    snprintf(path, sizeof path, "/proc/%s/ns/net", e->d_name);
    if (stat(path, &st) == 0 && st.st_ino == ino) found = true;
  }
  closedir(d);
  return found;
}

/* ---- host-port forwards (rootless user networks) ----
   A container's shim asks over DIR/ports.sock (netsetup.c request_forward): its network namespace by
   SCM_RIGHTS and pasta's port options. The holder, in the host's network namespace, runs a pasta for
   it that binds the host ports and splices their connections to the container's loopback (pasta joins
   the rootless user namespace first: from there it may enter the container's namespaces); other
   connections come through its tap, which the shim configures (net.h FWD_*). The pasta
   lives as long as the request's connection: the shim's start, or its monitor. */

struct fwd {
  int fd;
  pid_t pasta;
};
#define MAX_FWD 1024

static void fwd_end(struct fwd *f) {
  struct net_held h;
  net_held_init(&h);
  h.pasta = f->pasta;
  net_stop(&h);
  close(f->fd);
}

/* A port option's value: [ADDRESS/]HOSTPORT:CTRPORT with nothing pasta would read as more. */
static bool fwd_spec_ok(const char *v) {
  if (!*v || strlen(v) > 100) return false;
  for (const char *c = v; *c; c++)
    if (!strchr("0123456789abcdefABCDEF.:/[]", *c)) return false;
  return true;
}

/* Whether the host port of `spec` ([ADDRESS/]HOSTPORT:CTRPORT) is free here, in the host's network
   namespace (pasta alone would only warn and forward nothing): a test bind, as Docker's proxy would fail. */
static bool fwd_port_free(bool udp, const char *spec, char *why, size_t len) {
  char addr[64] = "0.0.0.0";
  const char *port = spec, *slash = strchr(spec, '/');
  if (slash) {
    snprintf(addr, sizeof addr, "%.*s", (int)(slash - spec), spec);
    port = slash + 1;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) return snprintf(why, len, "port forward: bad address %s", addr), false;
  cleanup_close int s = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int start = 1024;
    FILE *f = errno == EACCES ? fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re") : NULL;
    if (f) {
      if (fscanf(f, "%d", &start) != 1) start = 1024;
      fclose(f);
      /* Docker's rootless words (src/network/pasta.ts checkUnprivileged) */
      snprintf(why, len, "cannot expose privileged port %d, you can add 'net.ipv4.ip_unprivileged_port_start=%d' to /etc/sysctl.conf (currently %d), or choose a larger port number (>= %d)",
               atoi(port), atoi(port), start, start);
      return false;
    }
    snprintf(why, len, "failed to bind host port %s:%d/%s: %s", addr, atoi(port), udp ? "udp" : "tcp", strerror(errno));
    for (char *c = why; *c; c++) /* Docker's words: "address already in use" */
      if (c[0] == 'A' && !strncmp(c, "Address already", 15)) *c = 'a';
    return false;
  }
  return true;
}

/* Serve one request on `c`; the forward's pasta, or -1 (the reason sent back). */
static pid_t fwd_start(int c, const char *pasta, int userns) {
  char msg[4096], cbuf[CMSG_SPACE(sizeof(int))];
  struct pollfd pfd = {c, POLLIN, 0};
  if (poll(&pfd, 1, 5000) <= 0) return -1;
  struct iovec iov = {msg, sizeof msg - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  cleanup_close int ns = -1;
  struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
  if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
    memcpy(&ns, CMSG_DATA(cm), sizeof(int));
  const char *why = NULL;
  char bindwhy[320];
  char *args[140];
  size_t k = 0;
  bool tcp = false, udp = false;
  if (n <= 0 || ns < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) why = "port forward: a malformed request";
  else {
    msg[n] = 0;
    args[k++] = "-q";
    args[k++] = "-4"; /* IPv4 only, as the container's pasta (src/network/pasta.ts) */
    args[k++] = "-I";
    args[k++] = FWD_IFNAME;
    args[k++] = "-a"; /* what the shim configures on the tap (net.h) */
    args[k++] = FWD_ADDR;
    args[k++] = "-g";
    args[k++] = FWD_GW;
    args[k++] = "-T";
    args[k++] = "none";
    args[k++] = "-U";
    args[k++] = "none";
    for (char *o = msg; !why && o < msg + n;) {
      char *v = o + strlen(o) + 1;
      if (v >= msg + n || k > 130 || (strcmp(o, "-t") && strcmp(o, "-u")) || !fwd_spec_ok(v)) why = "port forward: a malformed port";
      else if (!fwd_port_free(o[1] == 'u', v, bindwhy, sizeof bindwhy)) why = bindwhy;
      else {
        if (o[1] == 't') tcp = true;
        else udp = true;
        args[k++] = o;
        args[k++] = v;
        o = v + strlen(v) + 1;
      }
    }
    if (!tcp) args[k++] = "-t", args[k++] = "none";
    if (!udp) args[k++] = "-u", args[k++] = "none";
    args[k] = NULL;
  }
  struct net_held h;
  net_held_init(&h);
  if (!why && net_start_pasta_in(pasta, args, userns, ns, &h) < 0) why = failure();
  if (why) {
    if (send(c, why, strlen(why), MSG_NOSIGNAL) < 0) { /* the shim is gone */ }
    return -1;
  }
  if (send(c, "ok", 2, MSG_NOSIGNAL) != 2) {
    net_stop(&h);
    return -1;
  }
  return h.pasta;
}

/* The holder's life after it is ready: serve forwards and watch, then end everything (the lock taken first). */
static void __attribute__((noreturn)) holder_watch(const char *dir, int dirfd, pid_t child, struct net_held *h, int lsock, const char *pasta) {
  struct stat ns;
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
  if (stat(path, &ns) < 0) _exit(EXIT_SHIM);
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0) _exit(EXIT_SHIM);
  static struct fwd fw[MAX_FWD];
  static struct pollfd pf[MAX_FWD + 1];
  size_t nf = 0;
  time_t checked = time(NULL);
  for (;;) {
    pf[0] = (struct pollfd){lsock, POLLIN, 0};
    for (size_t i = 0; i < nf; i++) pf[i + 1] = (struct pollfd){fw[i].fd, POLLIN, 0};
    if (poll(pf, nf + 1, 1000) < 0 && errno != EINTR) _exit(EXIT_SHIM);
    /* a closed (or talking) connection ends its forward: before new ones, so that a restart's new
       forward finds the old one's host ports free */
    for (size_t i = nf; i-- > 0;)
      if (pf[i + 1].revents) {
        fwd_end(&fw[i]);
        fw[i] = fw[--nf];
      }
    if (pf[0].revents & POLLIN) {
      int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) {
        pid_t pp = nf < MAX_FWD ? fwd_start(c, pasta, userns) : -1;
        if (pp > 0) fw[nf++] = (struct fwd){c, pp};
        else close(c);
      }
    }
    if (waitpid(child, NULL, WNOHANG) == child) break; /* killed from outside: end too */
    if (time(NULL) - checked < 1) continue;
    checked = time(NULL);
    if (others_in(ns.st_ino, child, h->pasta)) continue;
    int lock = openat(dirfd, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (lock < 0) break;
    while (flock(lock, LOCK_EX) < 0 && errno == EINTR) {}
    if (others_in(ns.st_ino, child, h->pasta)) { /* someone joined meanwhile */
      close(lock);
      continue;
    }
    break; /* the lock goes with us */
  }
  /* nothing of it stays: a joiner waiting on the removed lock sees it gone and starts anew */
  for (size_t i = 0; i < nf; i++) fwd_end(&fw[i]);
  unlinkat(dirfd, "ports.sock", 0);
  unlinkat(dirfd, "pid", 0);
  unlinkat(dirfd, "lock", 0);
  rmdir(dir);
  kill(child, SIGKILL);
  net_release(h);
  _exit(0);
}

/* The holder's listening socket DIR/ports.sock (through the directory's descriptor: DIR may be deep). */
static int forward_listener(int dirfd) {
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket for port forwards");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/ports.sock", dirfd);
  unlinkat(dirfd, "ports.sock", 0);
  if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 64) < 0) {
    int e = errno;
    close(s);
    errno = e;
    return fail("listen on ports.sock");
  }
  return s;
}

/* Start a holder (the caller holds the lock); 0 once its namespaces are ready and `pid` written. */
static int start_holder(const char *dir, int dirfd, const char *uidmap, const char *gidmap, const char *pasta, char **pasta_args) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return fail("pipe");
  pid_t holder = fork();
  if (holder < 0) return fail("fork the rootless network holder");
  if (holder > 0) {
    close(ready[1]);
    char msg[1024] = "";
    ssize_t n, off = 0;
    while ((n = read(ready[0], msg + off, sizeof msg - 1 - (size_t)off)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) off += n;
    close(ready[0]);
    msg[off] = 0;
    /* the holder forked once more and its first process exits at once (the session leader's parent) */
    while (waitpid(holder, NULL, 0) < 0 && errno == EINTR) {}
    if (!strcmp(msg, "ok")) return 0;
    return failx("%s", msg[0] ? msg : "the rootless network namespace's holder failed without a reason");
  }
  /* the holder: a session of its own, not our child (it outlives this command) */
  close(ready[0]);
  if (setsid() < 0 || fork() != 0) _exit(0);
  /* only the pipe to the starter (3) and the directory (4): the lock's descriptor must not stay here */
  int hi_out = fcntl(ready[1], F_DUPFD_CLOEXEC, 100), hi_dir = fcntl(dirfd, F_DUPFD_CLOEXEC, 100);
  if (hi_out < 0 || hi_dir < 0 || dup3(hi_out, 3, O_CLOEXEC) < 0 || dup3(hi_dir, 4, O_CLOEXEC) < 0) _exit(EXIT_SHIM);
  syscall(SYS_close_range, 5U, ~0U, 0U);
  int out = 3;
  dirfd = 4;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
  if (null > 4) close(null);
  reset_signals_child();
  signal(SIGPIPE, SIG_IGN);
  cleanup_free struct idmap *u = NULL;
  cleanup_free struct idmap *g = NULL;
  size_t nu, ng;
#define HOLDER_FAIL()                                      \
  do {                                                     \
    const char *why = failure();                           \
    if (write(out, why, strlen(why)) < 0) { /* nobody */ } \
    _exit(EXIT_SHIM);                                      \
  } while (0)
  if (parse_idmap_text(uidmap, &u, &nu) < 0 || parse_idmap_text(gidmap, &g, &ng) < 0) HOLDER_FAIL();
  bool helpers = !(nu == 1 && u[0].host == geteuid() && u[0].size == 1 && ng == 1 && g[0].host == getegid() && g[0].size == 1);
  int go[2], up[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0) {
    fail("pipe");
    HOLDER_FAIL();
  }
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD), NULL, NULL, NULL, NULL);
  if (child < 0) {
    fail("create the rootless network namespace");
    HOLDER_FAIL();
  }
  if (child == 0) {
    close(go[1]);
    close(up[0]);
    close(out);
    close(dirfd);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(EXIT_SHIM);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) _exit(EXIT_SHIM);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (loopback_up() < 0) _exit(EXIT_SHIM);
    close(go[0]);
    if (write(up[1], "u", 1) != 1) _exit(EXIT_SHIM);
    close(up[1]);
    /* wait for the end (SIGKILL from the holder, or the holder's death) */
    for (;;) pause();
  }
  close(go[0]);
  if (write_idmaps(child, u, nu, g, ng, helpers) < 0 || write(go[1], "g", 1) != 1) {
    kill(child, SIGKILL);
    HOLDER_FAIL();
  }
  close(go[1]);
  close(up[1]);
  char c;
  ssize_t got;
  while ((got = read(up[0], &c, 1)) < 0 && errno == EINTR) {}
  close(up[0]);
  if (got != 1) {
    kill(child, SIGKILL);
    failx("the rootless network namespace could not be set up (its loopback)");
    HOLDER_FAIL();
  }
  /* pasta joins its namespaces by pid */
  struct net_plan plan;
  memset(&plan, 0, sizeof plan);
  plan.has_pasta = true;
  plan.pasta.path = pasta;
  plan.pasta.args = pasta_args;
  struct net_held h;
  net_held_init(&h);
  if (net_start_pasta(&plan, child, &h) < 0) {
    kill(child, SIGKILL);
    HOLDER_FAIL();
  }
  char buf[64], path[48];
  struct stat ns;
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
  if (stat(path, &ns) < 0) {
    fail("stat %s", path);
    kill(child, SIGKILL);
    net_release(&h);
    HOLDER_FAIL();
  }
  snprintf(buf, sizeof buf, "%d %llu\n", (int)child, (unsigned long long)ns.st_ino);
  int pf = openat(dirfd, "pid.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (pf < 0 || write_all(pf, buf, strlen(buf)) < 0 || close(pf) < 0 || renameat(dirfd, "pid.tmp", dirfd, "pid") < 0) {
    fail("write the holder's pid");
    kill(child, SIGKILL);
    net_release(&h);
    HOLDER_FAIL();
  }
  int lsock = forward_listener(dirfd);
  if (lsock < 0) {
    kill(child, SIGKILL);
    net_release(&h);
    HOLDER_FAIL();
  }
#undef HOLDER_FAIL
  if (write(out, "ok", 2) != 2) { /* the starter died: the watch ends us when nobody joins */ }
  close(out);
  holder_watch(dir, dirfd, child, &h, lsock, pasta);
}

static int join(pid_t holder) {
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)holder);
  cleanup_close int user = open(path, O_RDONLY | O_CLOEXEC);
  if (user < 0) return fail("open %s", path);
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)holder);
  cleanup_close int net = open(path, O_RDONLY | O_CLOEXEC);
  if (net < 0) return fail("open %s", path);
  if (setns(user, CLONE_NEWUSER) < 0) return fail("join the rootless network namespace's user namespace");
  if (setns(net, CLONE_NEWNET) < 0) return fail("join the rootless network namespace");
  if (unshare(CLONE_NEWNS) < 0) return fail("make a mount namespace");
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) return fail("become root in the user namespace");
  return 0;
}

/* DIR and its lock, locked; a holder that ended removed both: then again with new ones. */
static int lock_dir(const char *dir, int *dirfd_out, int *lock_out) {
  for (int tries = 0; tries < 100; tries++) {
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return fail("create %s", dir);
    cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dirfd < 0) {
      if (errno == ENOENT) continue;
      return fail("open %s", dir);
    }
    cleanup_close int lock = openat(dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock < 0) {
      if (errno == ENOENT) continue;
      return fail("open %s/lock", dir);
    }
    while (flock(lock, LOCK_EX) < 0)
      if (errno != EINTR) return fail("lock %s/lock", dir);
    struct stat a, b, c, d;
    if (fstat(lock, &a) < 0 || fstat(dirfd, &c) < 0) return fail("stat %s/lock", dir);
    if (fstatat(dirfd, "lock", &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino || stat(dir, &d) < 0 || c.st_ino != d.st_ino)
      continue; /* removed by an ending holder meanwhile */
    *dirfd_out = take_fd(&dirfd);
    *lock_out = take_fd(&lock);
    return 0;
  }
  return failx("cannot lock %s/lock: it keeps being removed", dir);
}

static int netns_run(const char *dir, const char *uidmap, const char *gidmap, const char *pasta, char **pasta_args, char **cmd) {
  cleanup_close int dirfd = -1;
  cleanup_close int lock = -1;
  if (lock_dir(dir, &dirfd, &lock) < 0) return -1;
  pid_t holder = running_holder(dirfd);
  if (!holder) {
    unlinkat(dirfd, "pid", 0);
    if (start_holder(dir, dirfd, uidmap, gidmap, pasta, pasta_args) < 0) return -1;
    holder = running_holder(dirfd);
    if (!holder) return failx("the rootless network namespace's holder ended at once");
  }
  if (join(holder) < 0) return -1;
  close_fd(&lock); /* we count as one of its processes now */
  if (setenv("_SKIFF_IN_USERNS", "1", 1) < 0 || setenv("_SKIFF_IN_NETNS", "1", 1) < 0) return fail("setenv");
  execvp(cmd[0], cmd);
  set_failure_code(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE);
  return fail("exec %s", cmd[0]);
}

/* argv: DIR UIDMAP GIDMAP PASTA [PASTA-ARG...] -- CMD... */
int cmd_netns(int argc, char **argv) {
  int sep = -1;
  for (int i = 4; i < argc && sep < 0; i++)
    if (!strcmp(argv[i], "--")) sep = i;
  if (argc < 4 || sep < 0 || sep + 1 >= argc) return -1;
  cleanup_free char **pasta_args = xcalloc((size_t)(sep - 4 + 1), sizeof *pasta_args);
  for (int i = 4; i < sep; i++) pasta_args[i - 4] = argv[i];
  int r = netns_run(argv[0], argv[1], argv[2], argv[3], pasta_args, argv + sep + 1);
  return r < 0 ? print_failure() : r;
}
