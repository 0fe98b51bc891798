/*
 * `skiff-shim unshare UIDMAP GIDMAP -- CMD ARGS...`: rootless store work (extracting layers
 * with their owners, removing files of subordinate ids). CMD runs as root of a new user
 * namespace (with its own mount namespace) whose maps the shim writes with newuidmap and
 * newgidmap; a single mapping of our own ids is written directly. The environment gets
 * _SKIFF_IN_USERNS=1. Exit status and signals pass through.
 */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

static bool own_single(const struct idmap *m, size_t n, unsigned long id) {
  return n == 1 && m[0].host == id && m[0].size == 1;
}

/* -1 with the failure recorded, or the command's exit code. */
static int unshare_run(const char *uidmap, const char *gidmap, char **cmd) {
  cleanup_free struct idmap *u = NULL;
  cleanup_free struct idmap *g = NULL;
  size_t nu, ng;
  if (parse_idmap_text(uidmap, &u, &nu) < 0 || parse_idmap_text(gidmap, &g, &ng) < 0) return -1;
  bool helpers = geteuid() != 0 && !(own_single(u, nu, geteuid()) && own_single(g, ng, getegid()));
  if (block_signals() < 0) return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair");
  cleanup_close int sock = sv[0];
  cleanup_close int theirs = sv[1];
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, NULL);
  if (child < 0) return fail("create a user namespace");
  if (child == 0) {
    close_fd(&sock);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(theirs);
    }
    if (chan_wait(theirs, MSG_GO, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      fail("become root in the user namespace");
      child_die(theirs);
    }
    /* changing credentials cleared the parent-death signal: set it again, so that the command
       (a rootless pull, build, ...) dies with the CLI that was killed, instead of going on */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(theirs);
    }
    if (getppid() == 1) _exit(EXIT_SHIM); /* the shim died before we could notice */
    if (setenv("_SKIFF_IN_USERNS", "1", 1) < 0) {
      fail("setenv");
      child_die(theirs);
    }
    reset_signals_child();
    execvp(cmd[0], cmd);
    set_failure_code(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE);
    fail("exec %s", cmd[0]);
    child_die(theirs);
  }
  close_fd(&theirs);
  int r = write_idmaps(child, u, nu, g, ng, helpers);
  if (r == 0) {
    chan_send(sock, MSG_GO, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
    r = await_start(sock, NULL);
  }
  if (r < 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    return -1;
  }
  close_fd(&sock);
  int sig;
  /* the child shares our terminal: what the tty sends reaches it directly, don't double it */
  return supervise(child, -1, &sig, false, NULL);
}

int cmd_unshare(const char *uidmap, const char *gidmap, char **cmd) {
  int r = unshare_run(uidmap, gidmap, cmd);
  return r < 0 ? print_failure() : r;
}
