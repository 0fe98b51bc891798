/*
 * What follows a container's final exit (the foreground shim's, the monitor's last): the exit file,
 * the network's teardown and --rm's removal. What takes long (deleting links waits for an RCU grace
 * period; deleting a container's files on a busy disk) runs in a child detached from the caller's
 * session and stdio, so `run` returns (and the monitor exits) without waiting for it.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

void write_exit_file(const char *exit_file, int code, int sig, const char *error, bool oom) {
  if (!exit_file) return;
  char ts[64];
  rfc3339_now(ts, sizeof ts);
  cleanup_json json_t *o = json_pack("{s:i, s:o, s:s, s:s, s:b}", "exitCode", code, "signal", sig ? json_integer(sig) : json_null(),
                                     "finishedAt", ts, "error", error ? error : "", "oomKilled", oom);
  cleanup_free char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (!s) failx("record the exit in %s: out of memory", exit_file), print_failure();
  else if (write_atomic(exit_file, s) < 0) print_failure();
}

/* An exit's record: the events first (oom, then die, as Docker's), then exit.json, so whoever sees
   the exit (wait, a foreground run's return) finds its events in the log. */
void record_exit(const char *exit_file, json_t *events, int code, int sig, const char *error, bool oom) {
  if (oom) event_append(events, "oom", -1);
  event_append(events, "die", code);
  write_exit_file(exit_file, code, sig, error, oom);
}

/* In a child: nothing of the caller's may stay open in here (its session, stdio, any other fd but
   `keep`, which becomes fd 3: the return value; -1 when keep is -1), so a shell or pipe that waits for
   the caller's output is not held up by us. */
static int detach_keeping(int keep) {
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
  if (keep >= 0 && keep != 3 && dup2(keep, 3) < 0) keep = -1; /* dup2 clears O_CLOEXEC: we do not exec */
  syscall(SYS_close_range, keep >= 0 ? 4U : 3U, ~0U, 0U);
  return keep >= 0 ? 3 : -1;
}

void detach_self(void) { detach_keeping(-1); }

/*
 * The final teardown, in a child: `run` returns (the monitor exits) without waiting for the kernel.
 * The plan's marker (down_file) is made and locked here, before the fork, and stays locked by the
 * child until it exits: the CLI's sweep sees the teardown under way and leaves the container's leases
 * to a later sweep (bridge.ts). "done" in it: the teardown succeeded; empty and unlocked: it did not
 * finish (the sweep tears down again; idempotent).
 */
void net_teardown_detached(const struct net_plan *p, const struct net_held *h) {
  if (!p || !p->nifaces) return; /* pasta's plan: nothing outside the namespace (pasta went with net_stop) */
  cleanup_close int marker = -1;
  if (p->down_file) {
    marker = open(p->down_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (marker >= 0 && (flock(marker, LOCK_EX | LOCK_NB) < 0 || ftruncate(marker, 0) < 0)) close_fd(&marker);
  }
  pid_t pid = fork();
  if (pid < 0) { /* no child: do it here */
    fail("fork to tear the container's network down");
    print_failure();
    if (net_teardown_held(p, h) < 0) print_failure();
    else if (marker >= 0 && write(marker, "done\n", 5) != 5) print_failure();
    return;
  }
  if (pid > 0) return; /* its parent exits soon: it is adopted by init (or our subreaper) and reaped there */
  marker = detach_keeping(marker);
  if (net_teardown_held(p, h) < 0) _exit(EXIT_SHIM);
  if (!p->down_file) _exit(0);
  if (marker < 0) marker = open(p->down_file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  /* no marker: the next sweep tears down again (idempotent) */
  _exit(marker < 0 || write(marker, "done\n", 5) != 5 ? EXIT_SHIM : 0);
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
static int release_name(const struct name_link *n) {
  if (!n || !n->dir || !n->lock || !n->record || !n->id) return 0;
  cleanup_close int fd = open(n->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("open %s", n->lock);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return fail("lock %s", n->lock);
  cleanup_json json_t *rec = json_load_file(n->record, 0, NULL);
  const char *name = json_string_value(json_object_get(rec, "Name"));
  char link[PATH_MAX], target[PATH_MAX];
  if (!name || !*name || strchr(name, '/') || snprintf(link, sizeof link, "%s/%s", n->dir, name) >= (int)sizeof link) return 0;
  ssize_t len = readlink(link, target, sizeof target - 1);
  if (len <= 0) return 0;
  target[len] = 0;
  if (!strcmp(target, n->id) && unlink(link) < 0 && errno != ENOENT) return fail("remove %s", link);
  return 0;
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
  cleanup_close int mnt = mnt_fd;
  if (!n) return;
  if (release_name(names) < 0) print_failure(); /* before the record is renamed away */
  bool fork_it = userns_fd >= 0 || trash_dir;
  int go[2] = {-1, -1};
  if (trash_dir && pipe2(go, O_CLOEXEC) < 0) {
    fail("pipe for the removal of the container's files");
    print_failure();
    return;
  }
  cleanup_close int go_rd = go[0];
  cleanup_close int go_wr = go[1];
  if (!fork_it) {
    close_fd(&mnt);
    if (delete_paths(paths, n, NULL, -1, 0) < 0) print_failure();
    return;
  }
  pid_t p = fork();
  if (p < 0) {
    fail("fork to remove the container's files");
    print_failure();
    return;
  }
  if (p == 0) {
    close_fd(&mnt); /* the last reference: the namespace goes now, before the files */
    char wait_for_me = 0;
    if (trash_dir) {
      close_fd(&go_wr);
      /* the shim's verdict: EOF = it renamed everything and is gone; 'w' = it waits for us */
      while (read(go_rd, &wait_for_me, 1) < 0 && errno == EINTR) {}
      if (!wait_for_me) {
        if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER) < 0) _exit(1);
        userns_fd = -1;
        detach_self();
      }
    }
    int r = delete_paths(paths, n, trash_dir, userns_fd, getpid());
    if (r < 0) print_failure();
    _exit(r < 0);
  }
  close_fd(&mnt); /* the child holds the namespace now */
  bool all_renamed = trash_dir != NULL;
  for (size_t i = 0; i < n && all_renamed; i++) {
    char t[PATH_MAX];
    trash_name(trash_dir, paths[i], i, p, t, sizeof t);
    if (rename(paths[i], t) < 0 && errno != ENOENT) all_renamed = false;
  }
  if (trash_dir) {
    if (!all_renamed && write(go_wr, "w", 1) != 1) all_renamed = true; /* cannot tell it to report: let it go */
    if (all_renamed) return;
  }
  while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {}
}
