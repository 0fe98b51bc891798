/*
 * Scoped cleanup for the native C code (the shim, rmtree), in crun's style: a variable declared
 * with one of these attributes is released when it goes out of scope, on every return path, so an
 * error path is a plain `return fail(...)` and nothing it opened stays open.
 *
 *   cleanup_close int fd = open(...);     closed unless it is < 0
 *   cleanup_free char *buf = malloc(...); freed
 *   cleanup_file FILE *f = fopen(...);    fclose'd unless NULL
 *   cleanup_dir DIR *d = opendir(...);    closedir'd unless NULL
 *
 * To hand a resource on (return it, store it in a struct), take it: `return take_fd(&fd);`,
 * `s->buf = take_ptr(&buf);` leave -1 / NULL behind, so the cleanup has nothing left to do.
 * The cleanups keep errno: a caller that reads errno after a failure sees the failing call's.
 * Rules: initialise every cleanup variable where it is declared (-1 or NULL when there is nothing
 * yet); never jump past a declaration with goto; a function that forks must not rely on them in a
 * child that calls _exit (nothing runs then; the kernel closes the fds).
 */
#pragma once
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_file __attribute__((cleanup(cleanup_filep)))
#define cleanup_dir __attribute__((cleanup(cleanup_dirp)))

static inline void cleanup_closep(int *fd) {
  if (*fd < 0) return;
  int e = errno;
  close(*fd); /* a descriptor we only read from, or whose writes were checked: nothing to report */
  errno = e;
}

static inline void cleanup_freep(void *p) {
  int e = errno;
  free(*(void **)p);
  errno = e;
}

static inline void cleanup_filep(FILE **f) {
  if (!*f) return;
  int e = errno;
  fclose(*f);
  errno = e;
}

static inline void cleanup_dirp(DIR **d) {
  if (!*d) return;
  int e = errno;
  closedir(*d);
  errno = e;
}

/* Move ownership out of a cleanup variable. */
static inline int take_fd(int *fd) {
  int r = *fd;
  *fd = -1;
  return r;
}

static inline void *take_ptr(void *p) {
  void *r = *(void **)p;
  *(void **)p = NULL;
  return r;
}

/* Close now (the variable stays a cleanup variable, holding -1). */
static inline void close_fd(int *fd) {
  cleanup_closep(fd);
  *fd = -1;
}
