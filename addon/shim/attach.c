/*
 * The attach socket (docs/design/monitor.md): a unix stream socket under the
 * runroot. Every chunk of the container's output goes to every client as Docker's multiplexed
 * frame: [stream 1|2, 0, 0, 0, size big-endian 32] + bytes (with a tty, stream 1 only). What a
 * client sends is the container's stdin (the monitor writes it only when stdin is open). A
 * client that stops reading for 2 s is dropped, so it cannot stall the container's output.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "shim.h"

int attach_listen(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return failx("attach socket path too long: %s", path);
  strcpy(a.sun_path, path);
  char dir[sizeof a.sun_path];
  strcpy(dir, path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return fail("create %s", dir);
  }
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail("create the attach socket");
  unlink(path); /* a previous run's */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0) return fail("listen on %s", path);
  return take_fd(&fd);
}

/* A client: blocking writes bounded by the 2 s send timeout. -1 (fd closed) when there is no room. */
int attach_add(struct attach_clients *a, int fd, bool front) {
  if (a->n == ATTACH_MAX) return close(fd), -1;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  a->eof[a->n] = false;
  a->front[a->n] = front;
  a->fd[a->n++] = fd;
  return 0;
}

void attach_accept(int listener, struct attach_clients *a) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    attach_add(a, fd, false);
  }
}

void attach_drop(struct attach_clients *a, size_t i) {
  close(a->fd[i]);
  a->n--;
  a->fd[i] = a->fd[a->n];
  a->eof[i] = a->eof[a->n];
  a->front[i] = a->front[a->n];
}

void attach_send(struct attach_clients *a, int stream, const char *data, size_t len) {
  if (!a->n || !len) return;
  unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                        (unsigned char)(len >> 8), (unsigned char)len};
  for (size_t i = a->n; i-- > 0;)
    if (write_all(a->fd[i], h, sizeof h) < 0 || write_all(a->fd[i], data, len) < 0) attach_drop(a, i);
}

int attach_read(struct attach_clients *a, size_t i, char *buf, size_t cap, size_t *len) {
  ssize_t n;
  do n = recv(a->fd[i], buf, cap, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    *len = (size_t)n;
    return 0;
  }
  *len = 0;
  if (n < 0 && errno == EAGAIN) return 0;
  /* EOF: the client is done sending (it may still read: keep it, without its input) */
  if (n == 0) {
    a->eof[i] = true;
    return 1;
  }
  attach_drop(a, i);
  return -1;
}

void attach_close_all(struct attach_clients *a, int code) {
  char text[16];
  int len = code >= 0 ? snprintf(text, sizeof text, "%d", code) : 0;
  unsigned char h[8] = {ATTACH_EXIT_STREAM, 0, 0, 0, 0, 0, 0, (unsigned char)len};
  for (size_t i = 0; i < a->n; i++)
    if (a->front[i] && len > 0 && write_all(a->fd[i], h, sizeof h) == 0) write_all(a->fd[i], text, (size_t)len);
  while (a->n) attach_drop(a, a->n - 1);
}
