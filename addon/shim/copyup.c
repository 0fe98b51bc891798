/*
 * Volumes at start (mounts.c calls this before binding one): the copy-up of a new volume from the
 * image (Docker's: a volume mounted on a non-empty directory of the image is filled from it on its
 * first use) and the chown of `:U` (Podman's).
 *
 * A volume waiting for its first use has a `copyup` mark in its directory (src/volume/volumes.ts
 * makes it with the volume). Under an flock on the volume's directory the first start that mounts
 * it clears the mark; with copy-up wanted (no `nocopy`), the image's directory is first copied into
 * `_copyup` beside `_data` and renamed over the empty `_data`: a crash leaves the mark and an empty
 * `_data` (the next start copies again), never a half-filled volume. Owners, modes, times, xattrs,
 * symlinks, hard links and device nodes are kept. The source is opened inside the container's root
 * (openat2 RESOLVE_IN_ROOT) and walked by descriptors with O_NOFOLLOW: no symlink is followed.
 * It runs in the container's user namespace, so a rootless copy keeps the image's mapped owners.
 */

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "shim.h"
#include "../common/rmtree.h"

#define MAX_DEPTH 256
#define MARK "copyup"
#define STAGE "_copyup"

struct hardlink {
  dev_t dev;
  ino_t ino;
  char *path; /* relative to the copy's root */
};

struct copy {
  int dst_root;
  /* idcopy: each owner through these maps (source id → the copy's), overlay's xattrs kept */
  const struct idmap *umap, *gmap;
  size_t nu, ng;
  struct hardlink *links;
  size_t nlinks, cap;
  char path[4096]; /* the entry being copied, relative (for messages and hard links) */
};

static int open_source(int rootfd, const char *path) {
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd;
  do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* an owner of the source → the copy's: through the map when there is one; -1 for an id outside it */
static long map_id(const struct idmap *m, size_t n, unsigned long id) {
  if (!m) return (long)id;
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container && id - m[i].container < m[i].size) return (long)(m[i].host + (id - m[i].container));
  return -1;
}

static int copy_owner(const struct copy *cp, int dirfd, const char *name, const struct stat *st, const char *what) {
  long uid = map_id(cp->umap, cp->nu, st->st_uid), gid = map_id(cp->gmap, cp->ng, st->st_gid);
  if (uid < 0 || gid < 0) return failx("chown %s: owner %u:%u is outside the id mapping", what, st->st_uid, st->st_gid);
  if (fchownat(dirfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0) return fail("chown %s", what);
  return 0;
}

static bool is_overlay_xattr(const char *name) {
  return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

/*
 * idcopy: file capabilities count only for the root of the namespace their root id names. Read here
 * (skiff's namespace, whose root owns the layer) they come as revision 2, for this root; the copy's
 * get revision 3 naming the container's root (the source's 0 put through the map), which the kernel
 * takes in this namespace's ids. The new length, -1 on a value of another shape.
 */
static ssize_t shift_caps_root(const struct copy *cp, char *value, ssize_t len, const char *what) {
  struct vfs_ns_cap_data caps = {0};
  if ((size_t)len < XATTR_CAPS_SZ_2) return failx("read xattr security.capability of %s: %zd bytes", what, len);
  memcpy(&caps, value, (size_t)len < sizeof caps ? (size_t)len : sizeof caps);
  uint32_t rev = le32toh(caps.magic_etc) & VFS_CAP_REVISION_MASK;
  if (rev != VFS_CAP_REVISION_2 && rev != VFS_CAP_REVISION_3) return failx("read xattr security.capability of %s: revision %#x", what, rev);
  long root = map_id(cp->umap, cp->nu, rev == VFS_CAP_REVISION_3 ? le32toh(caps.rootid) : 0);
  if (root < 0) return failx("chown %s: the root of its file capabilities is outside the id mapping", what);
  caps.magic_etc = htole32((le32toh(caps.magic_etc) & ~VFS_CAP_REVISION_MASK) | VFS_CAP_REVISION_3);
  caps.rootid = htole32((uint32_t)root);
  memcpy(value, &caps, sizeof caps);
  return XATTR_CAPS_SZ_3;
}

/* xattrs of an open file or directory (not overlay's own) */
static int copy_xattrs(const struct copy *cp, int src, int dst, const char *what) {
  char names[65536];
  ssize_t n = flistxattr(src, names, sizeof names);
  if (n < 0) return errno == ENOTSUP ? 0 : fail("list the xattrs of %s", what);
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    if (!cp->umap && is_overlay_xattr(name)) continue; /* idcopy copies a layer: its opaque marks stay */
    char value[65536];
    ssize_t len = fgetxattr(src, name, value, sizeof value);
    if (len < 0) return fail("read xattr %s of %s", name, what);
    if (cp->umap && !strcmp(name, "security.capability") && (len = shift_caps_root(cp, value, len, what)) < 0) return -1;
    if (fsetxattr(dst, name, value, (size_t)len, 0) < 0 && errno != ENOTSUP) return fail("set xattr %s on %s", name, what);
  }
  return 0;
}

/* owner, then mode (a chown clears setuid bits), then xattrs (security.capability after the chown), then times */
static int copy_meta_fd(const struct copy *cp, int src, int dst, const struct stat *st, const char *what) {
  if (copy_owner(cp, dst, "", st, what) < 0) return -1;
  if (fchmod(dst, st->st_mode & 07777) < 0) return fail("chmod %s", what);
  if (copy_xattrs(cp, src, dst, what) < 0) return -1;
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  if (futimens(dst, t) < 0) return fail("set the times of %s", what);
  return 0;
}

static int copy_data(int src, int dst, const char *what) {
  for (;;) {
    ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
    if (n == 0) return 0;
    if (n > 0) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return fail("copy %s", what);
    break;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(src, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) return fail("read %s", what);
    if (write_all(dst, buf, (size_t)n) < 0) return fail("write %s", what);
  }
}

static int copy_dir(struct copy *cp, int src, int dst, int depth);

static int copy_entry(struct copy *cp, int src, int dst, const char *name, int depth) {
  struct stat st;
  if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return fail("stat %s", cp->path);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    for (size_t i = 0; i < cp->nlinks; i++)
      if (cp->links[i].dev == st.st_dev && cp->links[i].ino == st.st_ino) {
        if (linkat(cp->dst_root, cp->links[i].path, dst, name, 0) < 0) return fail("link %s", cp->path);
        return 0;
      }
    if (cp->nlinks == cp->cap) {
      size_t cap = cp->cap ? cp->cap * 2 : 16;
      struct hardlink *l = realloc(cp->links, cap * sizeof *l);
      if (!l) return fail("remember the hard links of %s", cp->path);
      cp->links = l, cp->cap = cap;
    }
    cp->links[cp->nlinks++] = (struct hardlink){st.st_dev, st.st_ino, xstrdup(cp->path)};
  }
  if (S_ISDIR(st.st_mode)) {
    if (depth >= MAX_DEPTH) return failx("copy %s: more than %d directory levels", cp->path, MAX_DEPTH);
    cleanup_close int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0) return fail("open %s", cp->path);
    if (mkdirat(dst, name, 0700) < 0) return fail("create %s", cp->path);
    cleanup_close int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) return fail("open %s", cp->path);
    if (copy_dir(cp, s, d, depth + 1) < 0) return -1;
    return copy_meta_fd(cp, s, d, &st, cp->path);
  }
  if (S_ISREG(st.st_mode)) {
    cleanup_close int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0) return fail("open %s", cp->path);
    cleanup_close int d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (d < 0) return fail("create %s", cp->path);
    if (copy_data(s, d, cp->path) < 0) return -1;
    return copy_meta_fd(cp, s, d, &st, cp->path);
  }
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(src, name, target, sizeof target - 1);
    if (n < 0) return fail("read link %s", cp->path);
    target[n] = 0;
    if (symlinkat(target, dst, name) < 0) return fail("create link %s", cp->path);
    if (copy_owner(cp, dst, name, &st, cp->path) < 0) return -1;
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    if (utimensat(dst, name, t, AT_SYMLINK_NOFOLLOW) < 0) return fail("set the times of %s", cp->path);
    return 0;
  }
  if (S_ISSOCK(st.st_mode)) return 0; /* as Docker's tar copy: sockets are not copied */
  /* fifos and device nodes */
  if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) return fail("create node %s", cp->path);
  if (copy_owner(cp, dst, name, &st, cp->path) < 0) return -1;
  if (fchmodat(dst, name, st.st_mode & 07777, 0) < 0) return fail("chmod %s", cp->path);
  if (!S_ISCHR(st.st_mode) || st.st_rdev) return 0;
  /* a whiteout keeps its times: packing the layer again gives the same entry */
  struct timespec t[2] = {st.st_atim, st.st_mtim};
  if (utimensat(dst, name, t, AT_SYMLINK_NOFOLLOW) < 0) return fail("set the times of %s", cp->path);
  return 0;
}

static int copy_dir(struct copy *cp, int src, int dst, int depth) {
  int dup = fcntl(src, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fail("dup");
  DIR *d = fdopendir(dup);
  if (!d) {
    close(dup);
    return fail("read %s", cp->path[0] ? cp->path : "/");
  }
  rewinddir(d); /* the descriptor's offset is shared with its other users */
  size_t len = strlen(cp->path);
  int r = 0;
  struct dirent *e;
  errno = 0;
  while (r == 0 && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if ((size_t)snprintf(cp->path + len, sizeof cp->path - len, "%s%s", len ? "/" : "", e->d_name) >= sizeof cp->path - len) {
      errno = ENAMETOOLONG;
      r = fail("copy %.*s", (int)len, cp->path);
      break;
    }
    r = copy_entry(cp, src, dst, e->d_name, depth);
    cp->path[len] = 0;
    errno = 0;
  }
  if (r == 0 && errno) r = fail("read %s", cp->path[0] ? cp->path : "/");
  closedir(d);
  return r;
}

static bool dir_empty(int dirfd, const char *what, int *err) {
  int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup < 0 ? NULL : fdopendir(dup);
  if (!d) {
    if (dup >= 0) close(dup);
    *err = fail("read %s", what);
    return false;
  }
  rewinddir(d);
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
  closedir(d);
  *err = 0;
  return empty;
}

/* Fill the volume (vfd: its directory; `_data` empty) from the directory `dest` of the container's root. */
static int fill_volume(int vfd, int rootfd, const char *dest) {
  cleanup_close int src = open_source(rootfd, dest);
  if (src < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return 0; /* nothing there to copy */
    return fail("open %s in the container", dest);
  }
  int err;
  if (dir_empty(src, dest, &err) || err) return err;
  cleanup_close int data = openat(vfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (data < 0) return fail("open the volume's _data");
  if (!dir_empty(data, "the volume's _data", &err) || err) return err; /* Docker: a volume with files is not filled */
  char why[512];
  if (rmtree_at(vfd, STAGE, why, sizeof why) < 0) return failx("%s", why); /* a crashed copy's leftover */
  if (mkdirat(vfd, STAGE, 0700) < 0) return fail("create the volume's %s", STAGE);
  struct copy cp = {.dst_root = -1};
  int r;
  {
    cleanup_close int stage = openat(vfd, STAGE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cp.dst_root = stage;
    struct stat st;
    if (stage < 0) r = fail("open the volume's %s", STAGE);
    else if (fstat(src, &st) < 0) r = fail("stat %s", dest);
    else if ((r = copy_dir(&cp, src, stage, 0)) == 0) r = copy_meta_fd(&cp, src, stage, &st, dest);
  }
  for (size_t i = 0; i < cp.nlinks; i++) free(cp.links[i].path);
  free(cp.links);
  if (r == 0 && renameat(vfd, STAGE, vfd, "_data") < 0) r = fail("move the copy of %s into the volume", dest);
  if (r < 0) rmtree_at(vfd, STAGE, NULL, 0);
  return r;
}

/* chown -R of a mount's source to the container's user (`:U`), symlinks themselves, never followed */
static int chown_tree(int dirfd, const char *what, uid_t uid, gid_t gid, int depth) {
  if (fchown(dirfd, uid, gid) < 0) return fail("chown %s", what);
  int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup < 0 ? NULL : fdopendir(dup);
  if (!d) {
    if (dup >= 0) close(dup);
    return fail("read %s", what);
  }
  int r = 0;
  struct dirent *e;
  while (r == 0 && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        r = depth >= MAX_DEPTH ? failx("chown %s: more than %d directory levels", what, MAX_DEPTH)
                               : chown_tree(sub, what, uid, gid, depth + 1);
        close(sub);
        continue;
      }
      if (errno != ENOTDIR && errno != ELOOP) {
        r = fail("open %s/%s", what, e->d_name);
        break;
      }
    }
    if (fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) r = fail("chown %s/%s", what, e->d_name);
  }
  closedir(d);
  return r;
}

int prepare_volume(int rootfd, const struct mount_entry *m, uid_t uid, gid_t gid) {
  if (m->volume) {
    /* the volume's directory holds _data (the source) and the mark */
    const char *slash = strrchr(m->source, '/');
    if (!slash || strcmp(slash, "/_data")) return failx("spec: volume mount %s: source %s is not a volume's _data", m->destination, m->source);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - m->source), m->source);
    cleanup_close int vfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (vfd < 0) return fail("open volume %s", dir);
    if (flock(vfd, LOCK_EX) < 0) return fail("lock volume %s", dir);
    if (faccessat(vfd, MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
      if (m->copyup && fill_volume(vfd, rootfd, m->destination) < 0) return -1;
      if (unlinkat(vfd, MARK, 0) < 0 && errno != ENOENT) return fail("mark volume %s used", dir);
    } else if (errno != ENOENT) {
      return fail("read volume %s", dir);
    }
  }
  if (m->chown) {
    cleanup_close int fd = open(m->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail("open %s", m->source);
    struct stat st;
    if (fstat(fd, &st) < 0) return fail("stat %s", m->source);
    if (!S_ISDIR(st.st_mode)) return fchown(fd, uid, gid) < 0 ? fail("chown %s", m->source) : 0;
    return chown_tree(fd, m->source, uid, gid, 0);
  }
  return 0;
}

/*
 * `skiff-shim idcopy UIDMAP GIDMAP SRC DST` (run by `skiff-shim unshare` in skiff's user namespace):
 * a copy of the layer directory SRC at DST (which must not exist) with every owner put through the
 * maps (SRC-id:DST-id:count, as the id maps are written), overlay's xattrs and whiteouts kept. The
 * store's copy of a layer for a container whose user namespace maps ids otherwise (`--userns keep-id`).
 * On failure DST is removed.
 */
static int idcopy(const char *uidmap, const char *gidmap, const char *src, const char *dst) {
  cleanup_free struct idmap *u = NULL;
  cleanup_free struct idmap *g = NULL;
  struct copy cp = {.dst_root = -1};
  if (parse_idmap_text(uidmap, &u, &cp.nu) < 0 || parse_idmap_text(gidmap, &g, &cp.ng) < 0) return -1;
  cp.umap = u, cp.gmap = g;
  cleanup_close int s = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0) return fail("open %s", src);
  struct stat st;
  if (fstat(s, &st) < 0) return fail("stat %s", src);
  if (mkdir(dst, 0700) < 0) return fail("create %s", dst);
  int r;
  {
    cleanup_close int d = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cp.dst_root = d;
    if (d < 0) r = fail("open %s", dst);
    else if ((r = copy_dir(&cp, s, d, 0)) == 0) r = copy_meta_fd(&cp, s, d, &st, src);
  }
  for (size_t i = 0; i < cp.nlinks; i++) free(cp.links[i].path);
  free(cp.links);
  if (r < 0) rmtree_at(AT_FDCWD, dst, NULL, 0);
  return r;
}

int cmd_idcopy(const char *uidmap, const char *gidmap, const char *src, const char *dst) {
  return idcopy(uidmap, gidmap, src, dst) < 0 ? print_failure() : 0;
}
