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

int cmd_unshare(const char *uidmap, const char *gidmap, char **cmd) {
  struct idmap *u, *g;
  size_t nu, ng;
  if (parse_idmap_text(uidmap, &u, &nu) < 0 || parse_idmap_text(gidmap, &g, &ng) < 0) return print_failure();
  bool helpers = geteuid() != 0 && !(own_single(u, nu, geteuid()) && own_single(g, ng, getegid()));
  if (block_signals() < 0) return print_failure();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair"), print_failure();
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, NULL);
  if (child < 0) return fail("create a user namespace"), print_failure();
  if (child == 0) {
    close(sv[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(sv[1]);
    }
    if (chan_wait(sv[1], MSG_GO, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      fail("become root in the user namespace");
      child_die(sv[1]);
    }
    /* changing credentials cleared the parent-death signal: set it again, so that the command
       (a rootless pull, build, ...) dies with the CLI that was killed, instead of going on */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
      fail("set the parent-death signal");
      child_die(sv[1]);
    }
    if (getppid() == 1) _exit(EXIT_SHIM); /* the shim died before we could notice */
    if (setenv("_SKIFF_IN_USERNS", "1", 1) < 0) {
      fail("setenv");
      child_die(sv[1]);
    }
    reset_signals_child();
    execvp(cmd[0], cmd);
    set_failure_code(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE);
    fail("exec %s", cmd[0]);
    child_die(sv[1]);
  }
  close(sv[1]);
  int r = write_idmaps(child, u, nu, g, ng, helpers);
  if (r == 0) {
    chan_send(sv[0], MSG_GO, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
    r = await_start(sv[0], NULL);
  }
  if (r < 0) {
    int code = print_failure();
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    return code;
  }
  close(sv[0]);
  int sig;
  /* the child shares our terminal: what the tty sends reaches it directly, don't double it */
  return supervise(child, -1, &sig, false);
}
