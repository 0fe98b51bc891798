/*
 * Terminal and signals. Container side: a pty from the container's own devpts becomes the
 * controlling terminal and stdio; the master goes to the shim over the channel (SCM_RIGHTS),
 * as crun's console socket does. Shim side: the host terminal in raw mode (restored on exit),
 * stdin → master → stdout, window size on SIGWINCH, forwarding of signals, reaping.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "shim.h"

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static sigset_t handled;

/* Before the child exists, so no signal slips through unforwarded. */
int block_signals(void) {
  sigemptyset(&handled);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaddset(&handled, FORWARDED[i]);
  sigaddset(&handled, SIGWINCH);
  sigaddset(&handled, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &handled, NULL) < 0) return fail("block signals");
  struct sigaction ign = {.sa_handler = SIG_IGN};
  if (sigaction(SIGPIPE, &ign, NULL) < 0) return fail("ignore SIGPIPE");
  return 0;
}

/* The container starts with default dispositions and nothing blocked (the CLI, Node, ignores
   SIGPIPE, and ignored signals survive execve). */
void reset_signals_child(void) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL); /* EINVAL for libc's reserved ones */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Node may leave its stdio non-blocking; the container (and our relay) want blocking fds.
   A closed 0, 1 or 2 becomes /dev/null, so no socket or pty of ours lands there. */
void clear_nonblock_stdio(void) {
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 && errno == EBADF) {
      int n = open("/dev/null", O_RDWR); /* open takes the lowest free number: fd itself */
      if (n >= 0 && n != fd) close_fd(&n);
    } else if (fl >= 0 && (fl & O_NONBLOCK)) {
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
  }
}

int pty_setup_child(int sock, bool console, uid_t owner) {
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC); /* the shim has it once sent */
  if (master < 0) return fail("open /dev/ptmx");
  int unlock = 0, n;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) return fail("unlock the pty");
  cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY); /* dup'ed onto 0, 1, 2 below */
  if (slave < 0) return fail("open the pty's terminal");
  if (console) {
    char pts[32];
    if (ioctl(master, TIOCGPTN, &n) < 0) return fail("get the pty number");
    snprintf(pts, sizeof pts, "/dev/pts/%d", n);
    if (bind_console(pts) < 0) return -1;
  }
  /* the size of the user's terminal from the start (SIGWINCH updates come from the shim) */
  struct winsize ws;
  for (int fd = 0; fd <= 2; fd++)
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
      if (ioctl(slave, TIOCSWINSZ, &ws) < 0) return fail("set the terminal size");
      break;
    }
  if (owner != 0 && fchown(slave, owner, (gid_t)-1) < 0) return fail("chown the terminal to %u", (unsigned)owner);
  if (chan_send(sock, MSG_PTY, 0, NULL, 0, master) < 0) return fail("send the pty to the shim");
  if (setsid() < 0) return fail("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return fail("make the pty the controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) return fail("dup2");
  if (slave <= 2) take_fd(&slave); /* it is one of 0, 1, 2 now */
  return 0;
}

int exit_code_of(int status, int *signal_out) {
  *signal_out = 0;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    *signal_out = WTERMSIG(status);
    return 128 + WTERMSIG(status);
  }
  return EXIT_SHIM;
}

/* The file of the size for a shim whose stdio are no terminal (the Engine API's exec: its caller
   writes "ROWS COLS" there, then sends SIGWINCH), opened before the container's namespaces are
   joined (its path is not there); -1: none. */
int winsize_fd = -1;

/* The size of our terminal, or the one in winsize_fd. */
static void copy_winsize(int master) {
  struct winsize ws;
  for (int fd = 0; fd <= 2; fd++)
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
      ioctl(master, TIOCSWINSZ, &ws);
      return;
    }
  if (winsize_fd >= 0 && read_winsize(winsize_fd, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

/* "ROWS COLS" from the start of open file `fd`; -1 when empty or malformed. */
int read_winsize(int fd, struct winsize *ws) {
  char buf[64];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  unsigned rows, cols;
  if (n <= 0) return -1;
  buf[n] = 0;
  if (sscanf(buf, "%u %u", &rows, &cols) != 2 || !rows || !cols || rows > 65535 || cols > 65535) return -1;
  *ws = (struct winsize){.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  return 0;
}

/* One read of a relayed pipe: to our fd `to` (when `shown`) and the log. At its end, or when our
   reader is gone (EPIPE: the container then gets SIGPIPE on its next write, as it would writing there
   itself), the pipe is closed. */
static void relay_pipe(int *fd, int to, bool shown, struct logfile *log, char *buf, size_t size) {
  ssize_t r = read(*fd, buf, size);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r > 0) {
    if (log) log_data(log, to, buf, (size_t)r);
    if (!shown || write_all(to, buf, (size_t)r) == 0 || errno != EPIPE) return;
  }
  if (log) log_flush(log, to);
  close_fd(fd);
}

/* The detach keys on input: buf[0..len) becomes what goes to the terminal (a partial match held back
   in *matched, sent when the sequence breaks); true when the whole sequence was typed. */
static bool detach_filter(const struct relay *relay, size_t *matched, char *buf, size_t *len) {
  static char out[16384 + 16];
  size_t n = 0;
  bool hit = false;
  for (size_t i = 0; i < *len && !hit; i++) {
    unsigned char b = (unsigned char)buf[i];
    if (b == relay->detach_keys[*matched]) {
      hit = ++*matched == relay->detach_len;
      continue;
    }
    memcpy(out + n, relay->detach_keys, *matched);
    n += *matched;
    *matched = 0;
    if (b == relay->detach_keys[0]) *matched = 1, hit = relay->detach_len == 1;
    else out[n++] = (char)b;
  }
  memcpy(buf, out, n);
  *len = n;
  return hit;
}

int supervise(pid_t child, int master, int *signal_out, bool forward_all, struct relay *relay) {
  struct relay none = {.out = -1, .err = -1, .log = NULL, .attach = ATTACH_ALL};
  if (!relay) relay = &none;
  cleanup_close int sfd = signalfd(-1, &handled, SFD_CLOEXEC);
  if (sfd < 0) {
    int e = errno, st;
    kill(child, SIGKILL);
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    errno = e;
    fail("signalfd");
    print_failure();
    return EXIT_SHIM;
  }
  struct termios saved;
  bool raw = false, stream_in = false;
  int in = -1;
  if (master >= 0 && (relay->attach & ATTACH_IN)) {
    in = 0;
    struct stat st;
    if (fstat(0, &st) == 0) stream_in = S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode);
    else in = -1;
    if (isatty(0) && tcgetattr(0, &saved) == 0) {
      struct termios t = saved;
      cfmakeraw(&t);
      raw = tcsetattr(0, TCSANOW, &t) == 0;
    }
  }
  if (master >= 0) {
    int fl = fcntl(master, F_GETFL);
    if (fl >= 0) fcntl(master, F_SETFL, fl | O_NONBLOCK);
    copy_winsize(master); /* a size given before SIGWINCH was blocked (its signal then was lost) */
  }
  static char inbuf[16384], outbuf[65536];
  size_t inlen = 0, inoff = 0, matched = 0;
  int status = 0;
  bool exited = false;
  for (;;) {
    struct pollfd p[5] = {{sfd, POLLIN, 0}, {master, (short)(POLLIN | (inlen ? POLLOUT : 0)), 0}, {inlen ? -1 : in, POLLIN, 0},
                          {relay->out, POLLIN, 0}, {relay->err, POLLIN, 0}};
    int n = poll(p, 5, exited ? 250 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("poll");
      if (!exited) kill(child, SIGKILL);
      break;
    }
    if (n == 0) break; /* exited, and the pty stayed quiet */
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int st;
          pid_t w;
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == child) status = st, exited = true;
        } else if (si.ssi_signo == SIGWINCH) {
          if (master >= 0) copy_winsize(master);
        } else if (!exited && (forward_all || si.ssi_code <= 0 /* sent by a process, not the tty */ ||
                               (raw && si.ssi_signo == SIGHUP) /* the raw terminal sends none but its hangup */)) {
          kill(child, (int)si.ssi_signo);
        }
      }
    }
    if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(master, outbuf, sizeof outbuf);
      if (r > 0 && relay->log) log_data(relay->log, 1, outbuf, (size_t)r); /* a terminal's output is stdout's */
      if (r > 0 && (relay->attach & ATTACH_OUT)) write_all(1, outbuf, (size_t)r);
      else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        close_fd(&master); /* EIO: every terminal end in the container is closed */
        inlen = 0;
      }
    }
    if (master >= 0 && inlen && (p[1].revents & POLLOUT)) {
      ssize_t w = write(master, inbuf + inoff, inlen - inoff);
      if (w > 0 && (inoff += (size_t)w) == inlen) inlen = inoff = 0;
      else if (w < 0 && errno != EAGAIN && errno != EINTR) inlen = inoff = 0;
    }
    if (in >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(in, inbuf, sizeof inbuf - 16);
      if (r > 0) {
        inlen = (size_t)r, inoff = 0;
        if (relay->detach_len && master >= 0 && detach_filter(relay, &matched, inbuf, &inlen)) {
          if (inlen && write(master, inbuf, inlen) < 0) {} /* what came before the keys, as far as it goes */
          if (chan_send(relay->detach_sock, MSG_PTY, 0, NULL, 0, master) == 0) {
            relay->detached = true;
            break;
          }
          inlen = 0; /* the keeper is gone: stay attached */
        }
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        in = -1;
        if (raw && master >= 0) {
          /* a raw terminal reads nothing but its hangup: hang up the container's terminal too, so
             its shell reads EOF and ends, as it would on the user's own terminal */
          close_fd(&master);
          inlen = 0;
          continue;
        }
        /* end of piped input: the terminal's EOF character, so a reader in the container sees it */
        struct termios t;
        if (stream_in && master >= 0 && tcgetattr(master, &t) == 0) inbuf[0] = (char)t.c_cc[VEOF], inlen = 1, inoff = 0;
      }
    }
    if (relay->out >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR))) relay_pipe(&relay->out, 1, relay->attach & ATTACH_OUT, relay->log, outbuf, sizeof outbuf);
    if (relay->err >= 0 && (p[4].revents & (POLLIN | POLLHUP | POLLERR))) relay_pipe(&relay->err, 2, relay->attach & ATTACH_ERR, relay->log, outbuf, sizeof outbuf);
    /* done when it exited and its output ended (or stayed quiet 250 ms: a process it left holds it) */
    if (exited && master < 0 && relay->out < 0 && relay->err < 0) break;
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  close_fd(&master);
  if (relay->log) log_flush(relay->log, 1), log_flush(relay->log, 2);
  close_fd(&relay->out);
  close_fd(&relay->err);
  if (relay->detached) return 0; /* the keeper (child) runs on */
  if (!exited) {
    while (waitpid(child, &status, 0) < 0)
      if (errno != EINTR) return EXIT_SHIM;
  }
  return exit_code_of(status, signal_out);
}
