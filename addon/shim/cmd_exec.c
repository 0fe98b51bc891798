/*
 * `skiff-shim exec PID PROCESS.json`: run one more process in the running container whose
 * init is host pid PID. The shim joins its namespaces (user first, mount last; setns(mnt)
 * also moves us to the container's root), forks so the pid namespace applies, and the child
 * applies the OCI process object exactly as `run` does for pid 1. The process file may carry
 * `skiffCgroups` (the container's cgroup dirs): the shim moves itself in first, so the process
 * is paused, counted and limited with the container.
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
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

/* Descriptors of the init's namespaces we do not share, in the order they are joined (-1: shared). */
static int open_namespaces(int procfd, long pid, int fds[NS_COUNT]) {
  static const int order[NS_COUNT] = {NS_USER, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_MNT};
  for (int i = 0; i < NS_COUNT; i++) fds[i] = -1;
  for (int i = 0; i < NS_COUNT; i++) {
    int k = order[i];
    char rel[32], self[48];
    snprintf(rel, sizeof rel, "ns/%s", NAMESPACES[k].proc);
    snprintf(self, sizeof self, "/proc/self/ns/%s", NAMESPACES[k].proc);
    struct stat a, b;
    if (fstatat(procfd, rel, &a, 0) < 0) {
      if (errno == ENOENT && k == NS_USER) return failx("container process %ld is not running", pid);
      if (errno == ENOENT) continue; /* namespace type not built into this kernel */
      return fail("stat /proc/%ld/%s", pid, rel);
    }
    if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue; /* shared with us */
    fds[i] = openat(procfd, rel, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return fail("open /proc/%ld/%s", pid, rel);
  }
  return 0;
}

/* Join them: user first (the others belong to it), mount last (it changes our root). */
static int join_namespaces(long pid) {
  static const int order[NS_COUNT] = {NS_USER, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_MNT};
  char procdir[32];
  snprintf(procdir, sizeof procdir, "/proc/%ld", pid);
  cleanup_close int procfd = open(procdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) return errno == ENOENT ? failx("container process %ld is not running", pid) : fail("open %s", procdir);
  int fds[NS_COUNT];
  int r = open_namespaces(procfd, pid, fds);
  for (int i = 0; i < NS_COUNT && r == 0; i++)
    if (fds[i] >= 0 && setns(fds[i], NAMESPACES[order[i]].flag) < 0)
      r = fail("join the container's %s namespace", NAMESPACES[order[i]].type);
  for (int i = 0; i < NS_COUNT; i++) close_fd(&fds[i]);
  return r;
}

/* -1 with the failure recorded, or the process's exit code. */
static int exec(long pid, const char *file) {
  static struct process p;
  cleanup_json json_t *owner = NULL;
  if (spec_load_process(file, &p, &owner) < 0) return -1;
  cleanup_filter struct filter_job f;
  if (filter_prepare(&f, p.seccomp, NULL) < 0) return -1;
  json_t *cgroups = json_object_get(owner, "skiffCgroups");
  if (json_is_array(cgroups) && cgroup_join_dirs(cgroups) < 0) return -1;
  /* the size file of a caller whose stdio are no terminal (io.c copy_winsize) */
  const char *wsfile = getenv("SKIFF_WINSIZE_FILE");
  if (wsfile && (winsize_fd = open(wsfile, O_RDONLY | O_CLOEXEC)) < 0) return fail("open %s", wsfile);
  if (join_namespaces(pid) < 0 || block_signals() < 0) return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair");
  cleanup_close int sock = sv[0];
  cleanup_close int theirs = sv[1];
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    close_fd(&sock);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(theirs);
    }
    if (chan_peer_gone(theirs)) _exit(EXIT_SHIM);
    struct exec_ctx x = {.sock = theirs, .console = false, .bpf = f.sc ? &f.bpf : NULL, .bpf_pending = f.pending,
                         .set_rlimits_oom = true};
    exec_process(&p, &x);
  }
  close_fd(&theirs);
  int master = -1;
  if (filter_deliver(&f, sock) < 0 || await_start(sock, &master) < 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    close_fd(&master);
    return -1;
  }
  close_fd(&sock);
  int sig;
  return supervise(child, master, &sig, true, NULL);
}

int cmd_exec(const char *pidarg, const char *file) {
  clear_nonblock_stdio();
  char *end;
  long pid = strtol(pidarg, &end, 10);
  int r = *end || pid <= 0 ? failx("invalid pid %s", pidarg) : exec(pid, file);
  return r < 0 ? print_failure() : r;
}
