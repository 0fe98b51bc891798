/*
 * Parent side of a running container: forward signals to it, relay a pty (raw host terminal,
 * window size on start and SIGWINCH), wait for it, and turn its status into Docker's exit code.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "shim.h"

int receive_fd(int sock) {
  char dummy;
  struct iovec iov = {&dummy, 1};
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      return -1;
    }
    buf += w;
    n -= w;
  }
  return 0;
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) ioctl(to, TIOCSWINSZ, &ws);
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 125;
}

int supervise(pid_t child, int master) {
  sigset_t mask;
  sigemptyset(&mask);
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&mask, sigs[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) return fail_errno("sigprocmask");
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0) return fail_errno("signalfd");
  struct termios saved;
  bool raw = false;
  bool stdin_open = master >= 0;
  if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    if (tcsetattr(0, TCSANOW, &t) == 0) raw = true;
    copy_winsize(0, master);
  }
  int code = -1;
  char buf[65536];
  for (;;) {
    struct pollfd p[3] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    int n = poll(p, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
      break;
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int st;
          pid_t w;
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == child) code = status_code(st);
        } else if (si.ssi_signo == SIGWINCH) {
          if (master >= 0) copy_winsize(0, master);
        } else {
          kill(child, (int)si.ssi_signo);
        }
      }
    }
    if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r > 0) write_all(1, buf, r);
      else if (r < 0 && errno != EINTR && errno != EAGAIN) { close(master); master = -1; }
      else if (r == 0) { close(master); master = -1; }
    }
    if (stdin_open && master >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r > 0) write_all(master, buf, r);
      else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
        if (!raw) { char eot = 4; write_all(master, &eot, 1); }
      }
    }
    if (code >= 0) {
      /* drain what the container wrote before it exited */
      while (master >= 0) {
        struct pollfd q = {master, POLLIN, 0};
        if (poll(&q, 1, 50) <= 0) break;
        ssize_t r = read(master, buf, sizeof buf);
        if (r <= 0) break;
        write_all(1, buf, r);
      }
      break;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  if (master >= 0) close(master);
  close(sfd);
  return code < 0 ? 125 : code;
}
