/* Namespaces: which to create, which to join, the user namespace's id maps, loopback. */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

extern char **environ;

/* Indexed by enum ns_kind. */
const struct ns_info NAMESPACES[NS_COUNT] = {
    [NS_USER] = {"user", "user", CLONE_NEWUSER},     [NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [NS_PID] = {"pid", "pid", CLONE_NEWPID},         [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},         [NS_NET] = {"network", "net", CLONE_NEWNET},
    [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP}};

int ns_clone_flags(const struct container *c) {
  int flags = 0;
  for (int k = 0; k < NS_COUNT; k++)
    if (c->ns[k].enabled && !c->ns[k].path) flags |= NAMESPACES[k].flag;
  return flags;
}

static int join(const struct container *c, int k) {
  cleanup_close int fd = open(c->ns[k].path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open %s namespace %s", NAMESPACES[k].type, c->ns[k].path);
  /* already there (a restart by the monitor, which joined at the first start): the kernel refuses
     to enter the user namespace one is in */
  char self[48];
  snprintf(self, sizeof self, "/proc/self/ns/%s", k == NS_PID ? "pid_for_children" : NAMESPACES[k].proc);
  struct stat a, b;
  if (fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return 0;
  return setns(fd, NAMESPACES[k].flag) < 0 ? fail("join %s namespace %s", NAMESPACES[k].type, c->ns[k].path) : 0;
}

int ns_pid_saved(const struct container *c) {
  if (!c->ns[NS_PID].enabled || !c->ns[NS_PID].path) return -1;
  return open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
}

int ns_pid_restore(const struct container *c, int *saved) {
  if (*saved < 0) return 0;
  int r = setns(*saved, CLONE_NEWPID), e = errno;
  close_fd(saved);
  errno = e;
  /* rootless (in another container's user namespace, or in skiff's) the host's PID namespace cannot be
     entered again: what the shim forks later lives in the joined one (the CLI gives such a container
     no pasta) */
  if (r < 0 && !(errno == EPERM && shim_rootless())) return fail("return to the shim's PID namespace");
  return 0;
}

/* The shim joins these itself before cloning the container: the user namespace first, so the
   namespaces created by clone belong to it, and the pid namespace so the child lands in it.
   The mount namespace is joined by the child (the shim keeps the host's view of the files). */
int ns_join_parent(const struct container *c) {
  static const int order[] = {NS_USER, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (c->ns[order[i]].enabled && c->ns[order[i]].path && join(c, order[i]) < 0) return -1;
  return 0;
}

int ns_join_mnt(const struct container *c) {
  return c->ns[NS_MNT].enabled && c->ns[NS_MNT].path ? join(c, NS_MNT) : 0;
}

/* ---- id maps ---- */

static int spawn_helper(struct idmap_helper *h, pid_t target, const struct idmap *m, size_t n) {
  cleanup_free char **argv = xcalloc(3 * n + 3, sizeof *argv);
  cleanup_free char *nums = xcalloc(3 * n + 1, 12); /* the numbers, 12 bytes each */
  char pidbuf[24];
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)target);
  argv[0] = (char *)h->path;
  argv[1] = pidbuf;
  for (size_t i = 0; i < 3 * n; i++) {
    argv[2 + i] = nums + 12 * i;
    snprintf(argv[2 + i], 12, "%lu", i % 3 == 0 ? m[i / 3].container : i % 3 == 1 ? m[i / 3].host : m[i / 3].size);
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return fail("pipe");
  cleanup_close int rd = p[0];
  cleanup_close int wr = p[1];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, dfl;
  sigemptyset(&none);
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  int r = posix_spawn_file_actions_init(&fa);
  if (r == 0) r = posix_spawn_file_actions_adddup2(&fa, wr, 2);
  if (r == 0) r = posix_spawnattr_init(&attr);
  /* our blocked signals and ignored SIGPIPE are not for the helper */
  if (r == 0) r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (r == 0) r = posix_spawnattr_setsigmask(&attr, &none);
  if (r == 0) r = posix_spawnattr_setsigdefault(&attr, &dfl);
  if (r == 0) r = posix_spawn(&h->pid, h->path, &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0) {
    errno = r;
    return fail("run %s", h->path);
  }
  h->err = take_fd(&rd);
  return 0;
}

static int finish_helper(struct idmap_helper *h, int *ok) {
  char text[512];
  size_t off = 0;
  ssize_t n;
  while (off < sizeof text - 1 && ((n = read(h->err, text + off, sizeof text - 1 - off)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) off += (size_t)n;
  text[off] = 0;
  close_fd(&h->err);
  while (off && (text[off - 1] == '\n' || text[off - 1] == ' ')) text[--off] = 0;
  for (char *c = text; *c; c++)
    if (*c == '\n') *c = ' ';
  int st;
  while (waitpid(h->pid, &st, 0) < 0)
    if (errno != EINTR) return fail("wait for %s", h->path);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  *ok = 0;
  return failx("%s failed%s%s (are there lines for this user in /etc/subuid and /etc/subgid?)", h->path,
               text[0] ? ": " : "", text);
}

static int write_map(pid_t pid, const char *file, const struct idmap *m, size_t n) {
  char path[64];
  cleanup_free char *buf = xcalloc(n, 40);
  size_t off = 0;
  for (size_t i = 0; i < n; i++) off += (size_t)sprintf(buf + off, "%lu %lu %lu\n", m[i].container, m[i].host, m[i].size);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  return write_file_at(AT_FDCWD, path, buf, off);
}

/* newuidmap and newgidmap started at once (each is a setuid exec); idmaps_finish waits for both. */
int idmaps_start(struct idmap_job *j, pid_t pid, const struct idmap *u, size_t nu, const struct idmap *g, size_t ng) {
  *j = (struct idmap_job){{"/usr/bin/newuidmap", 0, -1}, {"/usr/bin/newgidmap", 0, -1}};
  if (spawn_helper(&j->hu, pid, u, nu) < 0) return -1;
  if (spawn_helper(&j->hg, pid, g, ng) < 0) {
    int ok = 1;
    char saved[1536];
    snprintf(saved, sizeof saved, "%s", failure());
    finish_helper(&j->hu, &ok);
    j->hu.err = -1;
    return failx("%s", saved);
  }
  return 0;
}

int idmaps_finish(struct idmap_job *j) {
  if (j->hu.err < 0) return 0; /* not started, or finished */
  int ok = 1;
  char first[1536] = "";
  if (finish_helper(&j->hu, &ok) < 0) snprintf(first, sizeof first, "%s", failure());
  finish_helper(&j->hg, &ok);
  if (first[0]) failx("%s", first);
  return ok ? 0 : -1;
}

int write_idmaps(pid_t pid, const struct idmap *u, size_t nu, const struct idmap *g, size_t ng, bool helpers) {
  if (helpers) {
    struct idmap_job j;
    if (idmaps_start(&j, pid, u, nu, g, ng) < 0) return -1;
    return idmaps_finish(&j);
  }
  /* without CAP_SETGID in the parent namespace the kernel wants setgroups denied first */
  if (geteuid() != 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if (write_file_at(AT_FDCWD, path, "deny", 4) < 0) return -1;
  }
  if (write_map(pid, "uid_map", u, nu) < 0) return -1;
  return write_map(pid, "gid_map", g, ng);
}

int loopback_up(void) {
  cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("create a socket to configure lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("bring the loopback interface up");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? fail("bring the loopback interface up") : 0;
}
