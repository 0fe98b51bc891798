/*
 * `skiff-shim run BUNDLE`: create the container described by BUNDLE/config.json, run it in
 * the foreground (the CLI exec'd us: stdio, signals and the exit code are ours), record the
 * exit and clean up.
 *
 *   shim                                   child (clone with the new namespaces; pid 1)
 *   ────                                   ─────
 *   parse + validate spec, seccomp cache
 *   join namespaces given by path
 *   block forwarded signals
 *   clone ───────────────────────────────▶ pdeathsig, wait for GO
 *   id maps (newuidmap/newgidmap)
 *   cgroups (skiff.cgroups): mkdir, move child in
 *   GO ──────────────────────────────────▶ unshare cgroup ns (inside its cgroups), rootfs, mounts,
 *                                          /dev, pivot_root, masks, hostname
 *   compile seccomp if not cached; BPF ──▶ (received when needed) terminal, user, caps, seccomp
 *   ◀────────────────── PTY / ERROR / EOF  execve (the channel closes on exec)
 *   pid file, relay + forward + wait
 *   exit file, remove cgroups, remove (inside the user namespace)
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

static void write_exit_file(const struct container *c, int code, int sig, const char *error) {
  if (!c->exit_file) return;
  char ts[64];
  rfc3339_now(ts, sizeof ts);
  json_t *o = json_pack("{s:i, s:o, s:s, s:s}", "exitCode", code, "signal", sig ? json_integer(sig) : json_null(),
                        "finishedAt", ts, "error", error ? error : "");
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (!s || write_atomic(c->exit_file, s) < 0) print_failure();
  free(s);
  json_decref(o);
}

/* --rm. Files owned by subordinate ids can only be removed from inside the user namespace. */
static void remove_paths(const struct container *c, int userns_fd) {
  if (!c->nremove) return;
  pid_t p = userns_fd >= 0 ? fork() : 0;
  if (p < 0) {
    fail("fork to remove the container's files");
    print_failure();
    return;
  }
  if (p == 0) {
    int r = 0;
    if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) < 0) r = fail("join the container's user namespace to remove its files");
    for (size_t i = 0; i < c->nremove && r == 0; i++)
      if (rm_rf(c->remove[i]) < 0) r = -1;
    if (r < 0) print_failure();
    if (userns_fd >= 0) _exit(r < 0);
    return;
  }
  int st;
  while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
}

static int failed(const struct container *c, pid_t child, int userns_fd) {
  int code = print_failure();
  if (child > 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
  }
  write_exit_file(c, code, 0, failure());
  if (child > 0) cgroup_remove(c);
  remove_paths(c, userns_fd);
  return code;
}

/* The cgroup namespace is made after GO, when the child already is in its own cgroups: its root
   is then the container's cgroup (as runc and crun do), not the shim's. */
static bool late_cgroupns;

static void __attribute__((noreturn)) container_child(const struct container *c, int sock, struct filter_job *f) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    fail("set the parent-death signal");
    child_die(sock);
  }
  /* EOF here: the shim died before the id maps were written */
  if (chan_wait(sock, MSG_GO, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
  if (late_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    fail("create the container's cgroup namespace");
    child_die(sock);
  }
  bool userns = c->ns[NS_USER].enabled;
  if (userns && !c->ns[NS_USER].path && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
    fail("become root in the user namespace");
    child_die(sock);
  }
  umask(022);
  if (setup_rootfs(c, userns) < 0 || finish_rootfs(c) < 0) child_die(sock);
  struct exec_ctx x = {.sock = sock,
                       .console = true,
                       .bpf = f->sc ? &f->bpf : NULL,
                       .bpf_pending = f->pending,
                       .set_rlimits_oom = true};
  exec_process((struct process *)&c->proc, &x);
}

int cmd_run(const char *bundle) {
  static struct container c;
  clear_nonblock_stdio();
  if (spec_load_container(bundle, &c) < 0) return failed(&c, -1, -1);
  if (c.die_with_parent) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      return failed(&c, -1, -1);
    }
    if (getppid() != parent) return failx("the process that started the shim is gone"), failed(&c, -1, -1);
  }
  struct filter_job f;
  if (filter_prepare(&f, c.proc.seccomp, c.seccomp_cache) < 0) return failed(&c, -1, -1);
  if (ns_join_parent(&c) < 0 || block_signals() < 0) return failed(&c, -1, -1);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    fail("socketpair");
    return failed(&c, -1, -1);
  }
  int flags = ns_clone_flags(&c);
  if ((flags & CLONE_NEWCGROUP) && c.ncgroups) {
    late_cgroupns = true;
    flags &= ~CLONE_NEWCGROUP;
  }
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) {
    fail("create the container's namespaces");
    return failed(&c, -1, -1);
  }
  if (child == 0) {
    close(sv[0]);
    container_child(&c, sv[1], &f);
  }
  close(sv[1]);
  int sock = sv[0], userns_fd = -1, master = -1;
  if (flags & CLONE_NEWUSER) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
    /* kept open: --rm removes the files from inside this namespace after the container is gone */
    if ((userns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
      fail("open %s", path);
      return failed(&c, child, -1);
    }
    if (write_idmaps(child, c.uidmap, c.nuidmap, c.gidmap, c.ngidmap, c.idmap_helpers) < 0)
      return failed(&c, child, userns_fd);
  }
  if (cgroup_enter(&c, child) < 0) return failed(&c, child, userns_fd);
  chan_send(sock, MSG_GO, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
  if (filter_deliver(&f, sock) < 0) return failed(&c, child, userns_fd);
  if (await_start(sock, &master) < 0) {
    if (master >= 0) close(master);
    return failed(&c, child, userns_fd);
  }
  close(sock);
  if (c.pid_file) {
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)child);
    if (write_atomic(c.pid_file, buf) < 0) return failed(&c, child, userns_fd);
  }
  int sig = 0;
  int code = supervise(child, master, &sig, true);
  cgroup_remove(&c);
  write_exit_file(&c, code, sig, NULL);
  remove_paths(&c, userns_fd);
  return code;
}
