/*
 * `skiff-shim run BUNDLE`: create the container described by BUNDLE/config.json, run it in
 * the foreground (the CLI exec'd us: stdio, signals and the exit code are ours), record the
 * exit and clean up. container_start() is the start sequence alone: the detached monitor
 * (monitor.c) calls it for the first start and for every restart.
 *
 *   shim                                   child (clone with the new namespaces; pid 1)
 *   ────                                   ─────
 *   parse + validate spec, seccomp cache
 *   join namespaces given by path
 *   block forwarded signals
 *   clone ───────────────────────────────▶ pdeathsig, wait for GO
 *   id maps (newuidmap/newgidmap)
 *   cgroups (skiff.cgroups): mkdir, device policy (v1 rules / v2 BPF), move child in
 *   GO ──────────────────────────────────▶ unshare cgroup ns (inside its cgroups), rootfs, mounts,
 *                                          /dev, pivot_root, masks, hostname
 *   compile seccomp if not cached; BPF ──▶ (received when needed) terminal, user, caps, seccomp
 *   ◀────────────────── PTY / ERROR / EOF  execve (the channel closes on exec)
 *   pid file, relay + forward + wait
 *   exit file, remove cgroups, remove (inside the user namespace)
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

void write_exit_file(const char *exit_file, int code, int sig, const char *error) {
  if (!exit_file) return;
  char ts[64];
  rfc3339_now(ts, sizeof ts);
  json_t *o = json_pack("{s:i, s:o, s:s, s:s}", "exitCode", code, "signal", sig ? json_integer(sig) : json_null(),
                        "finishedAt", ts, "error", error ? error : "");
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (!s || write_atomic(exit_file, s) < 0) print_failure();
  free(s);
  json_decref(o);
}

/* Where path `i` of `paths` goes in `trash_dir` for the deleter `pid`: a staging name of the store
   (`<pid>-<kind>-...`), so the CLI's sweep leaves it alone while that pid runs and removes it after. */
static void trash_name(const char *trash_dir, const char *path, size_t i, pid_t pid, char *out, size_t len) {
  const char *base = strrchr(path, '/');
  snprintf(out, len, "%s/%d-rm-%zu-%s", trash_dir, (int)pid, i, base ? base + 1 : path);
}

/* Delete the paths (and their trash names). Files owned by subordinate ids can only be removed
   from inside the user namespace. */
static int delete_paths(char *const *paths, size_t n, const char *trash_dir, int userns_fd, pid_t trash_pid) {
  if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) < 0) return fail("join the container's user namespace to remove its files");
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    if (trash_dir) {
      char t[PATH_MAX];
      trash_name(trash_dir, paths[i], i, trash_pid, t, sizeof t);
      if (rm_rf(t) < 0) r = -1;
    }
    if (rm_rf(paths[i]) < 0) r = -1;
  }
  return r;
}

/*
 * --rm: the container's name goes from the names index (containers/names/<name> → id), under the
 * index's lock (locks/containers, where the CLI claims names) and only while the link still names
 * this container: a name a new container has taken since stays. The name is read from the record
 * now, not from the spec: `rename` may have changed it.
 */
static void release_name(const struct name_link *n) {
  if (!n || !n->dir || !n->lock || !n->record || !n->id) return;
  int fd = open(n->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail("open %s", n->lock);
    print_failure();
    return;
  }
  while (flock(fd, LOCK_EX) < 0) {
    if (errno == EINTR) continue;
    fail("lock %s", n->lock);
    print_failure();
    close(fd);
    return;
  }
  json_t *rec = json_load_file(n->record, 0, NULL);
  const char *name = json_string_value(json_object_get(rec, "Name"));
  char link[PATH_MAX], target[PATH_MAX];
  if (name && *name && !strchr(name, '/') && snprintf(link, sizeof link, "%s/%s", n->dir, name) < (int)sizeof link) {
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len > 0) {
      target[len] = 0;
      if (!strcmp(target, n->id) && unlink(link) < 0 && errno != ENOENT) {
        fail("remove %s", link);
        print_failure();
      }
    }
  }
  json_decref(rec);
  close(fd);
}

/*
 * --rm. With skiff.trashDir (on the store's filesystem) each path is first renamed there: the
 * container is gone from the store at once, and a child detached from the caller's session and
 * stdio deletes the files after the shim has exited (a slow disk then holds up nobody's prompt). A
 * deleter that dies leaves `<trashDir>/<pid>-rm-...`, which the CLI's staging sweep removes. When a
 * rename fails (or without trashDir) the shim waits for the deletion, as before.
 * `mnt_fd` (or -1) holds the container's mount namespace: the deleter closes it first, so the
 * namespace's teardown (unmounting the overlay: an RCU grace period, 2 ms to over a second on a busy
 * machine) happens there too, not in the container's exit the shim waits for.
 */
void remove_paths(char *const *paths, size_t n, const char *trash_dir, int userns_fd, int mnt_fd, const struct name_link *names) {
  if (n) release_name(names); /* before the record is renamed away */
  if (!n) {
    if (mnt_fd >= 0) close(mnt_fd);
    return;
  }
  bool fork_it = userns_fd >= 0 || trash_dir;
  int go[2] = {-1, -1};
  if (trash_dir && pipe2(go, O_CLOEXEC) < 0) {
    fail("pipe for the removal of the container's files");
    print_failure();
    return;
  }
  pid_t p = fork_it ? fork() : 0;
  if (p < 0) {
    fail("fork to remove the container's files");
    print_failure();
    return;
  }
  if (p == 0 && fork_it) {
    if (mnt_fd >= 0) close(mnt_fd); /* the last reference: the namespace goes now, before the files */
    char wait_for_me = 0;
    if (trash_dir) {
      close(go[1]);
      /* the shim's verdict: EOF = it renamed everything and is gone; 'w' = it waits for us */
      while (read(go[0], &wait_for_me, 1) < 0 && errno == EINTR) {}
      if (!wait_for_me) {
        /* nothing of the caller's may stay open in here: its session, stdio, any other fd */
        if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) < 0) _exit(1);
        userns_fd = -1;
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
        syscall(SYS_close_range, 3U, ~0U, 0U);
      }
    }
    int r = delete_paths(paths, n, trash_dir, userns_fd, getpid());
    if (r < 0) print_failure();
    _exit(r < 0);
  }
  if (p == 0) {
    if (mnt_fd >= 0) close(mnt_fd);
    if (delete_paths(paths, n, NULL, -1, 0) < 0) print_failure();
    return;
  }
  if (mnt_fd >= 0) close(mnt_fd); /* the child holds the namespace now */
  bool all_renamed = trash_dir != NULL;
  for (size_t i = 0; i < n && all_renamed; i++) {
    char t[PATH_MAX];
    trash_name(trash_dir, paths[i], i, p, t, sizeof t);
    if (rename(paths[i], t) < 0 && errno != ENOENT) all_renamed = false;
  }
  if (trash_dir) {
    if (!all_renamed && write(go[1], "w", 1) != 1) all_renamed = true; /* cannot tell it to report: let it go */
    close(go[0]);
    close(go[1]);
    if (all_renamed) return;
  }
  int st;
  while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
}

/* The cgroup namespace is made after GO, when the child already is in its own cgroups: its root
   is then the container's cgroup (as runc and crun do), not the shim's. */
static void __attribute__((noreturn)) container_child(const struct container *c, int sock, struct filter_job *f,
                                                      const struct start_io *io, bool late_cgroupns) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    fail("set the parent-death signal");
    child_die(sock);
  }
  if (io) {
    const int from[3] = {io->in, io->out, io->err};
    for (int fd = 0; fd < 3; fd++)
      if (from[fd] >= 0 && dup2(from[fd], fd) < 0) {
        fail("dup2 the container's stdio");
        child_die(sock);
      }
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

static void filter_free(struct filter_job *f) {
  free(f->key);
  free(f->bpf.insns);
  if (f->cachefd >= 0) close(f->cachefd);
  memset(f, 0, sizeof *f);
  f->cachefd = -1;
}

static int start_failed(const struct container *c, pid_t child, int sock, struct filter_job *f) {
  if (child > 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    cgroup_remove(c->cgroups, c->ncgroups);
  }
  if (sock >= 0) close(sock);
  filter_free(f);
  return -1;
}

int container_start(struct container *c, const struct start_io *io, struct started *s) {
  s->pid = -1;
  s->master = -1;
  s->userns_fd = -1;
  struct filter_job f;
  if (filter_prepare(&f, c->proc.seccomp, c->seccomp_cache) < 0) return start_failed(c, -1, -1, &f);
  if (ns_join_parent(c) < 0) return start_failed(c, -1, -1, &f);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    fail("socketpair");
    return start_failed(c, -1, -1, &f);
  }
  int flags = ns_clone_flags(c);
  bool late_cgroupns = (flags & CLONE_NEWCGROUP) && c->ncgroups;
  if (late_cgroupns) flags &= ~CLONE_NEWCGROUP;
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) {
    fail("create the container's namespaces");
    close(sv[1]);
    return start_failed(c, -1, sv[0], &f);
  }
  if (child == 0) {
    close(sv[0]);
    container_child(c, sv[1], &f, io, late_cgroupns);
  }
  close(sv[1]);
  int sock = sv[0];
  if (flags & CLONE_NEWUSER) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
    /* kept open: --rm removes the files from inside this namespace after the container is gone */
    if ((s->userns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
      fail("open %s", path);
      return start_failed(c, child, sock, &f);
    }
    if (write_idmaps(child, c->uidmap, c->nuidmap, c->gidmap, c->ngidmap, c->idmap_helpers) < 0)
      return start_failed(c, child, sock, &f);
  }
  if (cgroup_enter(c, child) < 0) return start_failed(c, child, sock, &f);
  chan_send(sock, MSG_GO, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
  if (filter_deliver(&f, sock) < 0) return start_failed(c, child, sock, &f);
  if (await_start(sock, &s->master) < 0) {
    if (s->master >= 0) close(s->master);
    s->master = -1;
    return start_failed(c, child, sock, &f);
  }
  close(sock);
  filter_free(&f);
  if (c->pid_file) {
    char buf[24];
    snprintf(buf, sizeof buf, "%d", (int)child);
    if (write_atomic(c->pid_file, buf) < 0) {
      if (s->master >= 0) close(s->master);
      s->master = -1;
      return start_failed(c, child, -1, &f);
    }
  }
  s->pid = child;
  return 0;
}

static int failed(const struct container *c, int userns_fd) {
  int code = print_failure();
  write_exit_file(c->exit_file, code, 0, failure());
  remove_paths((char *const *)c->remove, c->nremove, c->trash_dir, userns_fd, -1, &c->names);
  return code;
}

int cmd_run(const char *bundle) {
  static struct container c;
  clear_nonblock_stdio();
  if (spec_load_container(bundle, &c) < 0) return failed(&c, -1);
  if (c.die_with_parent) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      return failed(&c, -1);
    }
    if (getppid() != parent) return failx("the process that started the shim is gone"), failed(&c, -1);
  }
  if (block_signals() < 0) return failed(&c, -1);
  struct started s;
  if (container_start(&c, NULL, &s) < 0) return failed(&c, s.userns_fd);
  /* after the last failure point (failed() knows nothing of it) */
  int mnt_fd = -1;
  if (c.nremove && c.trash_dir) {
    /* --rm: nobody mounts this container's overlay again, so its teardown may outlive the shim */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)s.pid);
    mnt_fd = open(path, O_RDONLY | O_CLOEXEC); /* best effort: without it the exit waits for the teardown */
  }
  int sig = 0;
  int code = supervise(s.pid, s.master, &sig, true);
  cgroup_remove(c.cgroups, c.ncgroups);
  write_exit_file(c.exit_file, code, sig, NULL);
  remove_paths((char *const *)c.remove, c.nremove, c.trash_dir, s.userns_fd, mnt_fd, &c.names);
  return code;
}
