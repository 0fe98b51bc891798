/*
 * `skiff-shim run --detach BUNDLE`: start the container and stay as its monitor (the contract
 * is in docs/design/monitor.md).
 *
 *   CLI ─spawn─▶ shim (waits for one line on a pipe, prints "Error: ..." and exits with the code,
 *                 │     or exits 0 once the container runs)
 *                 └─fork─▶ setsid ─fork─▶ monitor (stdio /dev/null, cwd /)
 *                                           load spec, log file, attach socket
 *                                           container_start(): the container is its child
 *                                           monitor.json, pid file, "started" on the pipe
 *                                           free the spec, trim the heap, drop start-up pages
 *                                           loop: output → json-file log + attach clients,
 *                                                 attach input → stdin, health checks,
 *                                                 exit → remove cgroups, stop pasta, (final: release
 *                                                 the host ports), exit.json, restart policy (backoff)
 *                                           final exit: network teardown (detached child), --rm cleanup
 * The container's init has the monitor as parent-death signal: a monitor killed with SIGKILL
 * takes the container with it, and with no exit.json the CLI reads "exited (-1)".
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

#define DRAIN_MS 1000        /* output read after the init exited, at most */
#define BACKOFF_FIRST_MS 100 /* Docker's restart manager: 100 ms, doubling, at most a minute, */
#define BACKOFF_MAX_MS 60000 /* back to 100 ms after a run of 10 s or more */
#define BACKOFF_RESET_MS 10000
#define FRONT_FD 4 /* `run --detach --attach-fd`: the caller's attach client */

static struct monitor_config M;
static struct logfile *LOG;
static struct attach_clients CLIENTS;
static struct health *HEALTH;
static int LISTENER = -1;
static struct net_held NET; /* the container's network: host ports held across restarts, pasta per start */

static struct {
  pid_t pid;
  int out, err, master, in; /* output pipes or the pty master; the stdin pipe (-i) */
  int userns_fd;
  long long started_ms, exited_ms;
  bool exited;
  int status;
} cy = {.pid = -1, .out = -1, .err = -1, .master = -1, .in = -1, .userns_fd = -1};

static int restarts;
static long long backoff_ms, restart_at = -1;
static char inbuf[4096];
static size_t inlen, inoff;

static void report(int fd, int code, const char *line) {
  if (fd < 0) return;
  char buf[1700];
  int n = code ? snprintf(buf, sizeof buf, "%d %s\n", code, line) : snprintf(buf, sizeof buf, "0\n");
  write_all(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  close(fd);
}

static char PASTA_ENDED[768]; /* why this start's pasta ended on its own ("": it runs, or none) */

static void write_state(bool restarting) {
  if (!M.state_file) return;
  char buf[5120]; /* room for PASTA_ENDED escaped (json_dumps: 6 bytes a control character at most) */
  /* pastaEnded: a JSON string (json_dumps escapes pasta's words) */
  cleanup_json json_t *why = PASTA_ENDED[0] ? json_string(PASTA_ENDED) : NULL;
  cleanup_free char *ended = why ? json_dumps(why, JSON_ENCODE_ANY) : NULL;
  snprintf(buf, sizeof buf, "{\"monitorPid\":%d,\"restartCount\":%d,\"restarting\":%s%s%s}", (int)getpid(), restarts,
           restarting ? "true" : "false", ended ? ",\"pastaEnded\":" : "", ended ? ended : "");
  if (write_atomic(M.state_file, buf) < 0) print_failure();
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return fail("make the container's stdio non-blocking");
  return 0;
}

/* Start the loaded container with pipes (or its pty) for stdio. */
static int launch(struct container *c) {
  PASTA_ENDED[0] = 0; /* a new start, a new pasta */
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  struct start_io io = {-1, -1, -1};
  if (!c->proc.terminal) {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (M.open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
      fail("create the container's stdio pipes");
      for (int i = 0; i < 2; i++) close_fd(&out[i]), close_fd(&err[i]), close_fd(&in[i]);
      return -1;
    }
    io = (struct start_io){in[0], out[1], err[1]};
  }
  struct started s;
  int r = container_start(c, c->proc.terminal ? NULL : &io, &NET, &s);
  close_fd(&out[1]);
  close_fd(&err[1]);
  close_fd(&in[0]);
  close_fd(&cy.userns_fd);
  cy.userns_fd = s.userns_fd;
  if (r < 0) {
    close_fd(&out[0]);
    close_fd(&err[0]);
    close_fd(&in[1]);
    return -1;
  }
  cy.pid = s.pid;
  cy.out = out[0];
  cy.err = err[0];
  cy.in = in[1];
  cy.master = s.master;
  cy.exited = false;
  cy.started_ms = monotonic_ms();
  inlen = inoff = 0;
  int fds[4] = {cy.out, cy.err, cy.in, cy.master};
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0 && set_nonblock(fds[i]) < 0) {
      kill(cy.pid, SIGKILL);
      while (waitpid(cy.pid, NULL, 0) < 0 && errno == EINTR) {}
      cy.pid = -1;
      close_fd(&cy.out), close_fd(&cy.err), close_fd(&cy.in), close_fd(&cy.master);
      return -1;
    }
  return 0;
}

/* The pages of the start-up code (spec parsing, seccomp, mounts) and its read-only data are
   file-backed and never written: dropping them from our page tables lowers the RSS, and what
   the loop needs faults back in. Only mappings of our executable without anonymous (written,
   copied-on-write) pages qualify: RELRO data was written before it became read-only. */
static void drop_startup_pages(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = 0;
  FILE *f = fopen("/proc/self/smaps", "re");
  if (!f) return;
  char *line = NULL;
  size_t cap = 0;
  unsigned long lo = 0, hi = 0, drop[16][2];
  size_t ndrop = 0;
  bool candidate = false;
  while (getline(&line, &cap, f) > 0) {
    unsigned long a, b;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &path_at) >= 3 && path_at) {
      char *path = line + path_at;
      path[strcspn(path, "\n")] = 0;
      lo = a, hi = b;
      candidate = perms[1] == '-' && perms[3] == 'p' && !strcmp(path, exe);
    } else if (candidate && !strncmp(line, "Anonymous:", 10)) {
      if (strtoul(line + 10, NULL, 10) == 0 && ndrop < 16) drop[ndrop][0] = lo, drop[ndrop++][1] = hi;
      candidate = false;
    }
  }
  free(line);
  fclose(f);
  malloc_trim(0);
  /* last, so the scan above (stdio, sscanf) does not fault its own pages back in */
  for (size_t i = 0; i < ndrop; i++) madvise((void *)drop[i][0], drop[i][1] - drop[i][0], MADV_DONTNEED);
}

static void trim(void) { drop_startup_pages(); }

static void __attribute__((noreturn)) finish(void) {
  net_release(&NET); /* (after_exit released it already, unless a stop came during a restart's backoff) */
  if (M.network) net_teardown_detached(M.network, &NET);
  write_state(false);
  close_fd(&LISTENER);
  if (M.attach_socket) unlink(M.attach_socket);
  remove_paths(M.remove, M.nremove, M.trash_dir, cy.userns_fd, -1, &M.names);
  if (M.nremove) event_append(M.events, "destroy", -1);
  _exit(0);
}

/* After an exit (or a failed restart): the restart policy's answer. */
static bool should_restart(int code) {
  if (M.stop_file && access(M.stop_file, F_OK) == 0) return false;
  monitor_reload_restart(&M); /* `update --restart` may have changed it; unreadable: the one it had */
  return M.restart == RESTART_ALWAYS || M.restart == RESTART_UNLESS_STOPPED ||
         (M.restart == RESTART_ON_FAILURE && code != 0 && (M.max_retries == 0 || restarts < M.max_retries));
}

/* Record the exit; restart after the backoff or finish. monitor.json says "restarting" before
   exit.json appears, so a reader never sees a container that will restart as exited. */
static void after_exit(int code, int sig, const char *error, long long ran_ms, bool oom) {
  bool again = should_restart(code);
  if (again) {
    if (ran_ms >= BACKOFF_RESET_MS) backoff_ms = 0;
    backoff_ms = backoff_ms ? backoff_ms * 2 : BACKOFF_FIRST_MS;
    if (backoff_ms > BACKOFF_MAX_MS) backoff_ms = BACKOFF_MAX_MS;
    restarts++;
    restart_at = monotonic_ms() + backoff_ms;
    write_state(true);
  } else {
    net_release(&NET); /* before exit.json: a reader that sees the exit sees the host ports free */
  }
  record_exit(M.exit_file, M.events, code, sig, error, oom);
  attach_close_all(&CLIENTS, code); /* after exit.json: a client reads the code from it (a front one gets it first) */
  if (!again) finish();
}

static void end_cycle(void) {
  close_fd(&cy.out);
  close_fd(&cy.err);
  close_fd(&cy.master);
  close_fd(&cy.in);
  log_flush(LOG, 1);
  log_flush(LOG, 2);
  health_stop(HEALTH);
  int sig;
  int code = exit_code_of(cy.status, &sig);
  cy.pid = -1;
  cy.exited = false;
  bool oom = cgroup_oom_killed((const char *const *)M.cgroups, M.ncgroups);
  /* before exit.json: a reader that sees the exit sees the cgroups gone (the next start makes them again) */
  cgroup_remove((const char *const *)M.cgroups, M.ncgroups);
  net_stop(&NET); /* pasta goes with this start's namespace */
  after_exit(code, sig, NULL, monotonic_ms() - cy.started_ms, oom);
}

static void restart(void) {
  restart_at = -1;
  if (M.stop_file && access(M.stop_file, F_OK) == 0) finish();
  if (M.exit_file) unlink(M.exit_file);
  static struct container c;
  int r = spec_load_container(M.bundle, &c);
  if (r == 0) r = launch(&c);
  spec_free_container(&c);
  trim();
  if (r < 0) {
    after_exit(failure_code(), 0, failure(), 0, false);
    return;
  }
  event_append(M.events, "start", -1);
  write_state(false);
  health_reset(HEALTH, cy.pid);
}

static void output(int *fd, int stream) {
  static char buf[16384];
  for (int i = 0; i < 8; i++) { /* bounded: the other stream and clients get their turn */
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      log_data(LOG, stream, buf, (size_t)n);
      attach_send(&CLIENTS, stream, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) { /* EIO from a pty master: every terminal end is closed */
      log_flush(LOG, stream);
      close_fd(fd);
    }
    return;
  }
}

static int input_fd(void) {
  if (!M.open_stdin) return -1;
  return cy.master >= 0 ? cy.master : cy.in;
}

static void write_input(void) {
  int fd = input_fd();
  if (fd < 0) {
    inlen = inoff = 0;
    return;
  }
  ssize_t w = write(fd, inbuf + inoff, inlen - inoff);
  if (w > 0 && (inoff += (size_t)w) == inlen) inlen = inoff = 0;
  else if (w < 0 && errno != EAGAIN && errno != EINTR) inlen = inoff = 0; /* the container closed its stdin */
}

/* SIGWINCH from an attach client: the size it wrote becomes the pty's (the kernel tells the container). */
static void resize(void) {
  struct winsize ws;
  if (cy.master < 0 || !M.winsize_file) return;
  cleanup_close int fd = open(M.winsize_file, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read_winsize(fd, &ws) == 0) ioctl(cy.master, TIOCSWINSZ, &ws);
}

static void reap(void) {
  int st;
  pid_t w;
  while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
    if (w == cy.pid && !cy.exited) {
      cy.exited = true;
      cy.status = st;
      cy.exited_ms = monotonic_ms();
    } else if (NET.pasta > 0 && w == NET.pasta) {
      /* pasta ended while the container runs: the container has lost its network and published ports.
         Why goes to monitor.json (pastaEnded); net_stop no longer signals that pid (another's by then) */
      char why[sizeof PASTA_ENDED];
      net_pasta_ended(&NET, st, why, sizeof why);
      if (cy.pid > 0 && !cy.exited) { /* not the end of a container that exited first */
        memcpy(PASTA_ENDED, why, sizeof why);
        write_state(restart_at >= 0);
      }
    } else {
      health_reaped(HEALTH, w, st);
    }
  }
}

/* The blocked signals (SIGCHLD, SIGTERM...) as an fd; made before the container starts, since
   without it the monitor would never see its exit. */
static int open_signalfd(void) {
  sigset_t set;
  if (sigprocmask(SIG_SETMASK, NULL, &set) < 0) return fail("sigprocmask"); /* what block_signals() blocked */
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  return fd < 0 ? fail("signalfd") : fd;
}

static void loop(int sfd) {
  for (;;) {
    struct pollfd p[8 + ATTACH_MAX];
    int n = 0, i_sig = -1, i_out = -1, i_err = -1, i_master = -1, i_in = -1, i_listen = -1, i_health = -1, i_client = -1;
    p[i_sig = n++] = (struct pollfd){sfd, POLLIN, 0};
    if (cy.out >= 0) p[i_out = n++] = (struct pollfd){cy.out, POLLIN, 0};
    if (cy.err >= 0) p[i_err = n++] = (struct pollfd){cy.err, POLLIN, 0};
    if (cy.master >= 0) p[i_master = n++] = (struct pollfd){cy.master, (short)(POLLIN | (inlen ? POLLOUT : 0)), 0};
    if (cy.in >= 0 && inlen) p[i_in = n++] = (struct pollfd){cy.in, POLLOUT, 0};
    if (LISTENER >= 0) p[i_listen = n++] = (struct pollfd){LISTENER, POLLIN, 0};
    if (health_fd(HEALTH) >= 0) p[i_health = n++] = (struct pollfd){health_fd(HEALTH), POLLIN, 0};
    i_client = n;
    bool want_input = input_fd() >= 0 && !inlen;
    for (size_t k = 0; k < CLIENTS.n; k++)
      p[n++] = (struct pollfd){CLIENTS.fd[k], (short)(want_input && !CLIENTS.eof[k] ? POLLIN : 0), 0};
    long long now = monotonic_ms(), due = -1;
    long long h = health_due_ms(HEALTH);
    if (h >= 0) due = h;
    if (restart_at >= 0 && (due < 0 || restart_at < due)) due = restart_at;
    if (cy.exited && (due < 0 || cy.exited_ms + DRAIN_MS < due)) due = cy.exited_ms + DRAIN_MS;
    int timeout = due < 0 ? -1 : due <= now ? 0 : (int)(due - now);
    if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
      fail("poll");
      print_failure();
      if (cy.pid > 0) kill(cy.pid, SIGKILL);
    }
    if (i_sig >= 0 && (p[i_sig].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) reap();
        else if (si.ssi_signo == SIGWINCH) resize();
        else if (si.ssi_signo == SIGHUP && cy.master >= 0) {
          /* the terminal of `run -it` hung up (its CLI tells us): hang up the container's, so its
             shell reads EOF and ends, as under a foreground run's shim (io.c) */
          log_flush(LOG, 1);
          close_fd(&cy.master);
          inlen = inoff = 0;
        } else if (cy.pid > 0 && !cy.exited) kill(cy.pid, (int)si.ssi_signo);
      }
    }
    /* stop/kill/rm -f during a restart backoff: they mark the stop and wake us (SIGTERM) */
    if (restart_at >= 0 && M.stop_file && access(M.stop_file, F_OK) == 0) finish();
    if (i_out >= 0 && p[i_out].revents) output(&cy.out, 1);
    if (i_err >= 0 && p[i_err].revents) output(&cy.err, 2);
    if (i_master >= 0 && (p[i_master].revents & (POLLIN | POLLHUP | POLLERR))) output(&cy.master, 1);
    if (inlen && ((i_master >= 0 && (p[i_master].revents & POLLOUT)) || (i_in >= 0 && p[i_in].revents))) write_input();
    if (i_listen >= 0 && (p[i_listen].revents & POLLIN)) attach_accept(LISTENER, &CLIENTS);
    /* clients, from the last: attach_read removes a client that went away by swapping in the last one */
    for (int k = n - 1; k >= i_client; k--) {
      size_t idx = (size_t)(k - i_client);
      if (!p[k].revents || idx >= CLIENTS.n || CLIENTS.fd[idx] != p[k].fd) continue;
      if ((p[k].revents & POLLIN) && !CLIENTS.eof[idx] && !inlen) {
        size_t got = 0;
        if (attach_read(&CLIENTS, idx, inbuf, sizeof inbuf, &got) == 0 && got) {
          inlen = got;
          inoff = 0;
          write_input();
        }
      } else if (p[k].revents & (POLLHUP | POLLERR)) {
        attach_drop(&CLIENTS, idx);
      }
    }
    if (i_health >= 0 && p[i_health].revents) health_read(HEALTH);
    health_tick(HEALTH);
    now = monotonic_ms();
    if (cy.exited && ((cy.out < 0 && cy.err < 0 && cy.master < 0) || now >= cy.exited_ms + DRAIN_MS)) end_cycle();
    if (restart_at >= 0 && now >= restart_at) restart();
  }
}

/* The monitor's stdio (/dev/null), its report pipe on fd 3, the front client on fd 4 (`front`), no
   other fd of the caller's, cwd /. */
static int monitor_stdio(int *rep, bool front) {
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0) return fail("open /dev/null");
  if (*rep != 3 && dup3(*rep, 3, O_CLOEXEC) < 0) return fail("dup3");
  *rep = 3;
  if (syscall(SYS_close_range, front ? 5 : 4, ~0U, 0) < 0 && errno != ENOSYS) return fail("close_range");
  if (front) {
    /* the caller's socket: blocking (as accepted clients), never the container's */
    int fl = fcntl(FRONT_FD, F_GETFL);
    if (fl < 0 || fcntl(FRONT_FD, F_SETFL, fl & ~O_NONBLOCK) < 0 || fcntl(FRONT_FD, F_SETFD, FD_CLOEXEC) < 0)
      return fail("the attach descriptor %d", FRONT_FD);
  }
  if (chdir("/") < 0) return fail("chdir /");
  return 0;
}

/* Everything up to the running container; -1 with the failure recorded. */
static int monitor_start(const char *bundle, struct container *c, int *sfd, bool front) {
  net_held_init(&NET);
  if (spec_load_container(bundle, c) < 0 || monitor_config_load(c, &M) < 0 || block_signals() < 0) return -1;
  if ((*sfd = open_signalfd()) < 0) return -1;
  if (M.log_file && !(LOG = log_open(M.log_file, M.log_max_size, M.log_max_file))) return -1;
  if (M.attach_socket && (LISTENER = attach_listen(M.attach_socket)) < 0) return -1;
  HEALTH = health_new(&M);
  /* a client from the start: it sees the container's first output */
  if (front && attach_add(&CLIENTS, FRONT_FD, true) < 0) return failx("no room for the attach descriptor");
  write_state(false); /* before the first pid file: the CLI judges liveness by monitorPid from then on */
  if (launch(c) < 0) return -1;
  resize(); /* the size a front client's terminal has (written before the start) */
  return 0;
}

static void __attribute__((noreturn)) monitor(const char *bundle, int rep, bool front) {
  static struct container c;
  int sfd = -1;
  if (monitor_stdio(&rep, front) < 0 || monitor_start(bundle, &c, &sfd, front) < 0) {
    /* the one failure path: the caller gets the line; the exit file, the attach socket and --rm as after an exit */
    int code = failure_code();
    report(rep, code, failure());
    record_exit(c.exit_file, c.events, code, 0, failure(), false);
    if (M.attach_socket) unlink(M.attach_socket);
    remove_paths((char *const *)c.remove, c.nremove, c.trash_dir, cy.userns_fd, -1, &c.names);
    if (c.nremove) event_append(c.events, "destroy", -1);
    _exit(code);
  }
  event_append(c.events, "start", -1); /* before the caller returns: its next command sees it */
  health_reset(HEALTH, cy.pid);
  char trace[512];
  size_t tlen = trace_line(trace, sizeof trace);
  if (tlen) write_all(rep, trace, tlen);
  report(rep, 0, NULL);
  spec_free_container(&c);
  trim();
  loop(sfd);
  _exit(0);
}

/* The shim the CLI spawned: fork the monitor (setsid, fork again: it is nobody's child and in no
   terminal's session), then wait for its one line: "0" (the container runs), or "CODE Error line". */
static int run_detached(const char *bundle_arg, bool front) {
  cleanup_free char *bundle = realpath(bundle_arg, NULL);
  if (!bundle) return fail("bundle %s", bundle_arg);
  int rp[2];
  if (pipe2(rp, O_CLOEXEC) < 0) return fail("pipe");
  cleanup_close int rd = rp[0];
  cleanup_close int wr = rp[1];
  pid_t p1 = fork();
  if (p1 < 0) return fail("fork the monitor");
  if (p1 == 0) {
    close_fd(&rd);
    pid_t p2 = -1;
    if (setsid() < 0) fail("setsid");
    else if ((p2 = fork()) < 0) fail("fork the monitor");
    if (p2 < 0) report(wr, EXIT_SHIM, failure()), _exit(EXIT_SHIM);
    if (p2 > 0) _exit(0);
    monitor(bundle, wr, front);
  }
  close_fd(&wr);
  while (waitpid(p1, NULL, 0) < 0 && errno == EINTR) {}
  char line[1700];
  size_t len = 0;
  for (;;) {
    char *nl = memchr(line, '\n', len);
    if (nl && !strncmp(line, "skiff-trace", 11)) {
      /* SKIFF_TRACE_STARTUP: the monitor's trace line, before its report */
      size_t n = (size_t)(nl + 1 - line);
      (void)!write(STDERR_FILENO, line, n);
      memmove(line, nl + 1, len - n);
      len -= n;
      continue;
    }
    if (nl || len >= sizeof line - 1) break;
    ssize_t n = read(rd, line + len, sizeof line - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  line[len] = 0;
  line[strcspn(line, "\n")] = 0;
  if (!strcmp(line, "0")) return 0;
  char *msg;
  long code = strtol(line, &msg, 10);
  if (msg == line || *msg != ' ') return failx("the container's monitor exited before the container started");
  failx("%s", msg + 1);
  set_failure_code(code > 0 && code < 256 ? (int)code : EXIT_SHIM);
  return -1;
}

/* front: fd 4 is a client of the attach socket from the start (`run -it`, `start -ai`: the CLI's
   end of a socketpair), which also gets the exit code before the close. */
int cmd_run_detached(const char *bundle, bool front) {
  clear_nonblock_stdio();
  if (front && fcntl(FRONT_FD, F_GETFD) < 0) return fail("the attach descriptor %d", FRONT_FD), print_failure();
  return run_detached(bundle, front) < 0 ? print_failure() : 0;
}
