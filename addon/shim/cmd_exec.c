/*
 * `skiff-shim exec PID PROCESS.json`: run one more process in the running container whose
 * init is host pid PID. The shim joins its namespaces (user first, mount last; setns(mnt)
 * also moves us to the container's root), forks so the pid namespace applies, and the child
 * applies the OCI process object exactly as `run` does for pid 1. The process file may carry
 * `skiffCgroups` (the container's cgroup dirs): the shim moves itself in first, so the process
 * is paused, counted and limited with the container. With detach keys (exec -it), a keeper
 * process is the process's parent and this one the front that relays the terminal (exec_detachable).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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

/* In the container (its namespaces joined here): fork the process, hand it the filter and wait
   until it runs (its pid in *child, its terminal's master in *master, or -1). -1: failure recorded. */
static int start_process(long pid, struct process *p, struct filter_job *f, pid_t *child_out, int *master) {
  if (join_namespaces(pid) < 0) return -1;
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
    struct exec_ctx x = {.sock = theirs, .console = false, .bpf = f->sc ? &f->bpf : NULL, .bpf_pending = f->pending,
                         .set_rlimits_oom = true};
    exec_process(p, &x);
  }
  close_fd(&theirs);
  *master = -1;
  if (filter_deliver(f, sock) < 0 || await_start(sock, master) < 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    close_fd(master);
    return -1;
  }
  *child_out = child;
  return 0;
}

/*
 * The keeper of a detachable exec (a child of the front, in a session of its own): it starts the
 * process (so it is the process's parent), sends the terminal's master to the front, forwards the
 * signals the front passes on, and exits with the process's code. When the user detaches, the front
 * sends the master back: the keeper then reads (and drops) the output, so the process never blocks on
 * a full terminal, until it exits. A front gone without detaching (killed) takes the process along.
 */
static void __attribute__((noreturn)) keeper(long pid, struct process *p, struct filter_job *f, int ctl) {
  if (setsid() < 0) {
    fail("setsid");
    _exit(print_failure());
  }
  pid_t child;
  int master = -1;
  if (start_process(pid, p, f, &child, &master) < 0) _exit(print_failure());
  sigset_t set;
  cleanup_close int sfd = -1;
  if (sigprocmask(SIG_BLOCK, NULL, &set) < 0 || (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
      chan_send(ctl, MSG_PTY, (int)child, NULL, 0, master) < 0) {
    fail("hand the process's terminal to the front");
    kill(child, SIGKILL);
    _exit(print_failure());
  }
  close_fd(&master);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* off the user's terminal: it is the front's */
  if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2), close_fd(&null);
  int front = ctl;
  for (;;) {
    struct pollfd pf[3] = {{sfd, POLLIN, 0}, {front, POLLIN, 0}, {master, POLLIN, 0}};
    if (poll(pf, 3, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
      kill(child, SIGKILL);
      while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
      _exit(EXIT_SHIM);
    }
    if (pf[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int st, sig;
          pid_t w;
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == child) _exit(exit_code_of(st, &sig));
        } else if (si.ssi_signo != SIGWINCH) {
          kill(child, (int)si.ssi_signo);
        }
      }
    }
    if (front >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      enum msg_type t;
      int fd = -1;
      ssize_t n = chan_recv(front, &t, NULL, NULL, 0, &fd);
      if (n >= 0 && t == MSG_PTY && fd >= 0) { /* detached: the output is ours to drain */
        master = fd;
        int fl = fcntl(master, F_GETFL);
        if (fl >= 0) fcntl(master, F_SETFL, fl | O_NONBLOCK);
      } else if (n <= 0 && (n < 0 || t == 0)) {
        if (master < 0) kill(child, SIGKILL); /* the front went without detaching */
        front = -1;
      } else if (fd >= 0) {
        close(fd);
      }
    }
    if (master >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      static char drop[16384];
      ssize_t r = read(master, drop, sizeof drop);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&master);
    }
  }
}

/* A detachable exec (a terminal, our stdin attached): this process is the front, relaying the
   terminal; the keeper (above) is the process's parent and stays when the user detaches. */
static int exec_detachable(long pid, struct process *p, struct filter_job *f, const unsigned char *keys, size_t nkeys) {
  int sv[2];
  if (block_signals() < 0) return -1;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair");
  cleanup_close int ctl = sv[0];
  cleanup_close int theirs = sv[1];
  pid_t k = fork();
  if (k < 0) return fail("fork");
  if (k == 0) {
    close_fd(&ctl);
    keeper(pid, p, f, theirs);
  }
  close_fd(&theirs);
  enum msg_type t;
  int master = -1;
  ssize_t n = chan_recv(ctl, &t, NULL, NULL, 0, &master);
  if (n < 0 || t != MSG_PTY || master < 0) { /* the keeper failed (and said why) */
    close_fd(&master);
    int st;
    while (waitpid(k, &st, 0) < 0)
      if (errno != EINTR) return fail("wait for the exec's keeper");
    if (n < 0 || t != 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 0) return failx("the exec's keeper failed");
    set_failure_code(WEXITSTATUS(st));
    return -2; /* already printed */
  }
  struct relay r = {.out = -1, .err = -1, .log = NULL, .attach = ATTACH_ALL, .detach_keys = keys, .detach_len = nkeys, .detach_sock = ctl};
  int sig;
  int code = supervise(k, master, &sig, true, &r);
  if (r.detached) {
    fputs("read escape sequence\n", stderr); /* Docker's words; the exec runs on */
    return 0;
  }
  return code;
}

/* -1 with the failure recorded, or the process's exit code. */
static int exec(long pid, const char *file, const unsigned char *keys, size_t nkeys) {
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
  if (keys && p.terminal) return exec_detachable(pid, &p, &f, keys, nkeys);
  pid_t child;
  int master;
  if (block_signals() < 0 || start_process(pid, &p, &f, &child, &master) < 0) return -1;
  int sig;
  return supervise(child, master, &sig, true, NULL);
}

/* keys: the detach keys (docker exec -it --detach-keys) as hex, or NULL */
int cmd_exec(const char *pidarg, const char *file, const char *keyhex) {
  clear_nonblock_stdio();
  unsigned char keys[16];
  size_t nkeys = 0;
  if (keyhex) {
    size_t len = strlen(keyhex);
    if (!len || len % 2 || len / 2 > sizeof keys || strspn(keyhex, "0123456789abcdefABCDEF") != len)
      return failx("invalid detach keys %s", keyhex), print_failure();
    for (size_t i = 0; i < len; i += 2) {
      char byte[3] = {keyhex[i], keyhex[i + 1], 0};
      keys[nkeys++] = (unsigned char)strtoul(byte, NULL, 16);
    }
  }
  char *end;
  long pid = strtol(pidarg, &end, 10);
  int r = *end || pid <= 0 ? failx("invalid pid %s", pidarg) : exec(pid, file, keyhex ? keys : NULL, nkeys);
  if (r == -2) return failure_code(); /* printed by the keeper */
  return r < 0 ? print_failure() : r;
}
