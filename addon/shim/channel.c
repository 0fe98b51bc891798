/*
 * The shim ↔ child channel: a SOCK_SEQPACKET socketpair (CLOEXEC). One message per packet:
 * a small header, an optional payload and an optional fd (SCM_RIGHTS).
 *   parent → child: MSG_MAPPED (its new user namespace's id maps are written: build the rootfs),
 *                   MSG_GO (in its cgroups, network set up: finish and exec), MSG_BPF (compiled seccomp filter)
 *   child → parent: MSG_PTY (pty master), MSG_ERROR (exit code + one line)
 * A successful execve closes the child's end: the parent reads EOF.
 */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "shim.h"

struct msg_header {
  uint32_t type;
  int32_t code;
};

int chan_send(int sock, enum msg_type type, int code, const void *data, size_t len, int passfd) {
  struct msg_header h = {(uint32_t)type, code};
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)data, len}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } cmsg;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = data && len ? 2 : 1};
  if (passfd >= 0) {
    memset(&cmsg, 0, sizeof cmsg);
    msg.msg_control = cmsg.buf;
    msg.msg_controllen = sizeof cmsg.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passfd, sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

ssize_t chan_recv(int sock, enum msg_type *type, int *code, void *buf, size_t cap, int *passfd) {
  struct msg_header h = {0, 0};
  struct iovec iov[2] = {{&h, sizeof h}, {buf, cap}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } cmsg;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = buf && cap ? 2 : 1, .msg_control = cmsg.buf,
                       .msg_controllen = sizeof cmsg.buf};
  if (passfd) *passfd = -1;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  *type = 0;
  if (n == 0) return 0;
  if ((size_t)n < sizeof h || (msg.msg_flags & MSG_TRUNC)) {
    errno = EPROTO;
    return -1;
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && passfd)
      memcpy(passfd, CMSG_DATA(c), sizeof(int));
  *type = (enum msg_type)h.type;
  if (code) *code = h.code;
  return n - (ssize_t)sizeof h;
}

void child_die(int sock) {
  const char *line = failure();
  int code = failure_code();
  if (sock < 0 || chan_send(sock, MSG_ERROR, code, line, strlen(line), -1) < 0) print_failure();
  _exit(code);
}

int chan_wait(int sock, enum msg_type want, void *buf, size_t cap, size_t *len) {
  enum msg_type t;
  ssize_t n = chan_recv(sock, &t, NULL, buf, cap, NULL);
  if (n < 0) return fail("read from the shim");
  if (t == 0) return failx("the shim exited");
  if (t != want) {
    errno = EPROTO;
    return fail("unexpected message %u from the shim", (unsigned)t);
  }
  if (len) *len = (size_t)n;
  return 0;
}

bool chan_peer_gone(int sock) {
  struct pollfd p = {sock, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

int await_start(int sock, int *master) {
  char line[1600];
  for (;;) {
    enum msg_type type;
    int code = 0, fd = -1;
    ssize_t n = chan_recv(sock, &type, &code, line, sizeof line - 1, &fd);
    if (n < 0) return fail("read from the container process");
    if (type == 0) return 0;
    if (type == MSG_PTY && fd >= 0) {
      if (master && *master < 0) *master = fd;
      else close(fd);
    } else if (type == MSG_ERROR) {
      line[n] = 0;
      set_failure_code(code > 0 ? code : EXIT_SHIM);
      return failx("%s", line);
    } else if (fd >= 0) {
      close(fd);
    }
  }
}

void chan_take_child_failure(int sock) {
  struct pollfd p = {sock, POLLIN, 0};
  if (sock < 0 || poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return;
  char line[1600];
  enum msg_type type;
  int code = 0, fd = -1;
  ssize_t n = chan_recv(sock, &type, &code, line, sizeof line - 1, &fd);
  if (fd >= 0) close(fd);
  if (n < 0 || type != MSG_ERROR) return;
  line[n] = 0;
  set_failure_code(code > 0 ? code : EXIT_SHIM);
  failx("%s", line);
}
