/* rm -rf for any tree (see rmtree.h). Iterative: the walk holds one directory open at a time and
   climbs back through "..", checking it arrives where it came from (device and inode of every level
   are remembered), so a tree thousands of levels deep costs neither descriptors nor long paths. A
   directory is listed again from its start after each subdirectory is gone: what was removed no
   longer shows, so nothing is skipped and nothing is visited twice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rmtree.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct level {
  char *name;
  dev_t dev;
  ino_t ino;
};

struct walk {
  const char *top; /* the caller's name for the tree */
  struct level *lv; /* lv[0] is the top; lv[n-1] the directory open now */
  size_t n, cap;
  dev_t dev;
  char *err;
  size_t errlen;
};

/* Appends `s` to `out` (of `len`, at *at), control characters as '?': a name must not break the line. */
static void put(char *out, size_t len, size_t *at, const char *s) {
  for (; *s && *at + 1 < len; s++) out[(*at)++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
  out[*at] = 0;
}

/* "cannot remove <path>: <why>": the path is the top, the levels below it walked so far and `leaf`
   (with no level open, `leaf` or the top alone), shortened when long. */
static int failed(struct walk *w, const char *leaf, const char *why, int e) {
  if (w->err && w->errlen) {
    size_t at = 0, total = strlen(w->top) + (leaf ? strlen(leaf) + 1 : 0);
    for (size_t i = 1; i < w->n; i++) total += strlen(w->lv[i].name) + 1;
    put(w->err, w->errlen, &at, "cannot remove ");
    if (w->n == 0) {
      put(w->err, w->errlen, &at, leaf ? leaf : w->top);
    } else {
      put(w->err, w->errlen, &at, w->top);
      for (size_t i = 1; i < w->n; i++) {
        /* a long path keeps its first two and last two levels: the line stays readable */
        if (total > 240 && w->n > 5 && i == 3) {
          char skipped[64];
          snprintf(skipped, sizeof skipped, "/...(%zu levels)...", w->n - 5);
          put(w->err, w->errlen, &at, skipped);
          i = w->n - 3;
          continue;
        }
        put(w->err, w->errlen, &at, "/");
        put(w->err, w->errlen, &at, w->lv[i].name);
      }
      if (leaf) {
        put(w->err, w->errlen, &at, "/");
        put(w->err, w->errlen, &at, leaf);
      }
    }
    put(w->err, w->errlen, &at, ": ");
    put(w->err, w->errlen, &at, why ? why : strerror(e));
  }
  errno = e;
  return -1;
}

/* Clears immutable and append-only on `fd`: 1 when it did, 0 when neither was set (or the
   filesystem has no such flags), -1 when it may not (errno). */
static int clear_flags(int fd) {
  int fl;
  if (ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0) return (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL) ? 0 : -1;
  if (!(fl & (FS_IMMUTABLE_FL | FS_APPEND_FL))) return 0;
  fl &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
  return ioctl(fd, FS_IOC_SETFLAGS, &fl) < 0 ? -1 : 1;
}

/*
 * After EPERM: clears the attributes of the directory `dirfd` (unless AT_FDCWD: not ours to touch)
 * and of `name` in it (a regular file or directory: devices are never opened). 1 when something
 * was cleared (try again), 0 when nothing was set, -1 when clearing was refused.
 */
static int clear_attrs(int dirfd, const char *name) {
  int changed = 0, r;
  if (dirfd != AT_FDCWD) {
    if ((r = clear_flags(dirfd)) < 0) return -1;
    changed |= r;
  }
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
      if ((r = clear_flags(fd)) < 0) return -1;
      changed |= r;
    }
  }
  return changed;
}

/* Makes the directory `dirfd` (open, or with `name` one in it) readable, writable and searchable by
   us: 1 when its mode changed, 0 when it had those bits (or is AT_FDCWD: not ours to touch), -1 on error. */
static int make_usable(int dirfd, const char *name) {
  struct stat st;
  if (name ? fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 : dirfd == AT_FDCWD || fstat(dirfd, &st) < 0) return name ? -1 : 0;
  if (!S_ISDIR(st.st_mode) || (st.st_mode & 0700) == 0700) return 0;
  const mode_t mode = (st.st_mode & 07777) | 0700;
  return (name ? fchmodat(dirfd, name, mode, 0) : fchmod(dirfd, mode)) < 0 ? -1 : 1;
}

/* An operation on `name` in `dirfd` failed with `e` (EPERM or EACCES): fixes what it can. 1: try again. */
static int fix(struct walk *w, int dirfd, const char *name, int e) {
  if (e == EACCES) {
    /* the directory we are in, or the entry (a directory we cannot open) */
    int r = make_usable(dirfd, NULL);
    if (r == 0) r = make_usable(dirfd, name);
    return r > 0 ? 1 : failed(w, name, NULL, EACCES);
  }
  int r = clear_attrs(dirfd, name);
  if (r > 0) return 1;
  if (r < 0) return failed(w, name, "it is immutable or append-only (chattr +i/+a) and clearing that is not permitted", EPERM);
  return failed(w, name, NULL, e);
}

/* Removes a non-directory: 0 done, 1 it is a directory after all, -1 error. */
static int remove_file(struct walk *w, int dirfd, const char *name) {
  for (int tries = 0;; tries++) {
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno == EISDIR) return 1;
    int e = errno;
    if ((e != EPERM && e != EACCES) || tries >= 3) return failed(w, name, NULL, e);
    if (fix(w, dirfd, name, e) < 0) return -1;
  }
}

static int remove_dir(struct walk *w, int dirfd, const char *name) {
  for (int tries = 0;; tries++) {
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
    int e = errno;
    if (e == EBUSY) return failed(w, name, "it is a mount point: unmount it first", e);
    if (e == ENOTEMPTY || e == EEXIST) return failed(w, name, "something keeps writing into it", e);
    if ((e != EPERM && e != EACCES) || tries >= 3) return failed(w, name, NULL, e);
    if (fix(w, dirfd, name, e) < 0) return -1;
  }
}

/* Opens directory `name` in `dirfd` for the walk (made usable when it was not), with its identity in *st. */
static int open_dir(struct walk *w, int dirfd, const char *name, struct stat *st) {
  for (int tries = 0;; tries++) {
    cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      if (fstat(fd, st) < 0) return failed(w, name, NULL, errno);
      if (st->st_dev != w->dev) return failed(w, name, "it is a mount point (another filesystem): unmount it first", EXDEV);
      if ((st->st_mode & 0700) != 0700 && fchmod(fd, (st->st_mode & 07777) | 0700) < 0 && errno != EPERM)
        return failed(w, name, NULL, errno);
      return take_fd(&fd);
    }
    int e = errno;
    if (e != EACCES || tries >= 2) return failed(w, name, NULL, e);
    if (fix(w, dirfd, name, e) < 0) return -1;
  }
}

static int push(struct walk *w, const char *name, const struct stat *st) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    struct level *lv = realloc(w->lv, cap * sizeof *lv);
    if (!lv) return failed(w, name, NULL, ENOMEM);
    w->lv = lv;
    w->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return failed(w, name, NULL, ENOMEM);
  w->lv[w->n++] = (struct level){copy, st->st_dev, st->st_ino};
  return 0;
}

/* The first entry of the open directory `fd` that is (still) a directory, after removing every
   non-directory before it; NULL with *done = 1 when the directory is empty now. */
static char *next_subdir(struct walk *w, int fd, int *done) {
  *done = 0;
  cleanup_close int dfd = dup(fd);
  if (dfd < 0) return failed(w, NULL, NULL, errno), NULL;
  cleanup_dir DIR *d = fdopendir(dfd);
  if (!d) return failed(w, NULL, NULL, errno), NULL;
  take_fd(&dfd); /* the DIR owns it */
  rewinddir(d); /* the copy shares its offset with `fd`: start from the top every time */
  char *sub = NULL;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (!de) {
      if (errno) failed(w, NULL, "cannot read the directory", errno);
      else *done = 1;
      break;
    }
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    int r = de->d_type == DT_DIR ? 1 : remove_file(w, fd, de->d_name);
    if (r < 0) break;
    if (r == 1) {
      if (!(sub = strdup(de->d_name))) failed(w, de->d_name, NULL, ENOMEM);
      break;
    }
  }
  return sub;
}

int rmtree_at(int dirfd, const char *name, char *err, size_t errlen) {
  struct walk w = {.top = name, .err = err, .errlen = errlen};
  if (err && errlen) err[0] = 0;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : failed(&w, NULL, NULL, errno);
  w.dev = st.st_dev;
  if (!S_ISDIR(st.st_mode)) return remove_file(&w, dirfd, name) < 0 ? -1 : 0;
  cleanup_close int cur = open_dir(&w, dirfd, name, &st);
  if (cur < 0) return -1;
  int r = push(&w, name, &st);
  while (r == 0) {
    int done;
    cleanup_free char *sub = next_subdir(&w, cur, &done);
    if (sub) {
      cleanup_close int fd = open_dir(&w, cur, sub, &st);
      if (fd < 0 || push(&w, sub, &st) < 0) {
        r = -1;
        break;
      }
      close_fd(&cur);
      cur = take_fd(&fd);
      continue;
    }
    if (!done) {
      r = -1;
      break;
    }
    /* `cur` is empty: climb to its parent and remove it there */
    if (w.n == 1) {
      close_fd(&cur);
      free(w.lv[0].name);
      w.n = 0;
      r = remove_dir(&w, dirfd, name);
      break;
    }
    cleanup_close int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct level *up = &w.lv[w.n - 2];
    if (parent < 0 || fstat(parent, &st) < 0 || st.st_dev != up->dev || st.st_ino != up->ino) {
      r = failed(&w, NULL, "it was moved while being removed", parent < 0 ? errno : EXDEV);
      break;
    }
    close_fd(&cur);
    cur = take_fd(&parent);
    cleanup_free char *leaf = w.lv[--w.n].name;
    r = remove_dir(&w, cur, leaf);
  }
  int e = errno;
  for (size_t i = 0; i < w.n; i++) free(w.lv[i].name);
  free(w.lv);
  errno = e;
  return r < 0 ? -1 : 0;
}
