/*
 * The container's filesystem, built inside its own mount namespace (so everything disappears
 * with it): overlay rootfs, the spec's mounts (targets resolved inside the new root with
 * openat2(RESOLVE_IN_ROOT), never through a host symlink), /dev, pivot_root, then masked and
 * read-only paths. Binds use the new mount API (open_tree + mount_setattr + move_mount): the
 * flags are set on the detached copy, so the kernel's locked flags of a user namespace never
 * need to be read back and restated.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "shim.h"

#define PROC_FD(buf, fd) snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd)

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd;
  do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* mkdir -p inside the root: every component resolved within it (a dangling symlink too). */
static int mkdir_in_root_at(int rootfd, const char *path, mode_t mode, int depth) {
  cleanup_close int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
  if (fd >= 0) return 0;
  if (errno != ENOENT) return fail("open %s in the container", path);
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    errno = ENAMETOOLONG;
    return fail("create %s in the container", path);
  }
  cleanup_close int parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  if (parent < 0) return fail("dup");
  char *p = buf;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    char *end = strchr(p, '/');
    if (end) *end = 0;
    if (mkdirat(parent, p, mode) < 0 && errno != EEXIST) return fail("create %s in the container", buf);
    int next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    char link[4096];
    ssize_t n;
    if (next < 0 && errno == ENOENT && depth < 40 && (n = readlinkat(parent, p, link, sizeof link - 1)) > 0) {
      link[n] = 0;
      char target[8192];
      if (link[0] == '/') snprintf(target, sizeof target, "%s", link);
      else snprintf(target, sizeof target, "%.*s/%s", (int)(p - buf), buf, link);
      if (mkdir_in_root_at(rootfd, target, mode, depth + 1) == 0) next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
      else errno = ENOENT;
    }
    if (next < 0) return fail("open %s in the container", buf);
    close_fd(&parent);
    parent = next;
    if (!end) break;
    *end = '/';
    p = end + 1;
  }
  return 0;
}

static int mkdir_in_root(int rootfd, const char *path, mode_t mode) { return mkdir_in_root_at(rootfd, path, mode, 0); }

/* Open (creating when missing) the mount point `dest` inside the root: a file or a directory.
   A dangling symlink on the way is followed inside the root, and its target created there. */
static int mount_target_at(int rootfd, const char *dest, bool file, int depth) {
  int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd >= 0) return fd;
  if (errno != ENOENT) return fail("open mount point %s", dest);
  const char *slash = strrchr(dest, '/');
  char parent[4096];
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - dest), dest);
  if (parent[0] && mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
  cleanup_close int pfd = open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
  if (pfd < 0) return fail("open %s in the container", parent[0] ? parent : "/");
  char link[4096];
  ssize_t n = readlinkat(pfd, slash + 1, link, sizeof link - 1);
  if (n > 0) {
    link[n] = 0;
    if (depth >= 40) return errno = ELOOP, fail("create mount point %s", dest);
    char next[8192];
    if (link[0] == '/') snprintf(next, sizeof next, "%s", link);
    else snprintf(next, sizeof next, "%s/%s", parent, link);
    return mount_target_at(rootfd, next, file, depth + 1);
  }
  if (file) {
    cleanup_close int f = openat(pfd, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) return fail("create mount point %s", dest);
  } else if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST) {
    return fail("create mount point %s", dest);
  }
  fd = open_in_root(rootfd, dest, O_PATH);
  return fd < 0 ? fail("open mount point %s", dest) : fd;
}

static int mount_target(int rootfd, const char *dest, bool file) { return mount_target_at(rootfd, dest, file, 0); }

/* Attach `tree` (a detached copy from open_tree) onto target with the bind's options. */
static int attach_tree(int tree, const char *source, int targetfd, const char *dest, uint64_t attrs, bool attrs_recursive,
                       unsigned long propagation) {
  if (attrs) {
    struct mount_attr a = {.attr_set = attrs};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | (attrs_recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
      return fail("set the options of bind mount %s", dest);
  }
  if (move_mount(tree, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return fail("bind mount %s on %s", source, dest);
  if (propagation) {
    struct mount_attr a = {.propagation = propagation & ~MS_REC};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | ((propagation & MS_REC) ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
      return fail("set the propagation of %s", dest);
  }
  return 0;
}

/* Bind the host path `source` onto target. */
static int bind_onto(const char *source, int targetfd, const char *dest, bool recursive, uint64_t attrs,
                     bool attrs_recursive, unsigned long propagation) {
  cleanup_close int tree = (int)open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) return fail("bind mount %s on %s", source, dest);
  return attach_tree(tree, source, targetfd, dest, attrs, attrs_recursive, propagation);
}

/*
 * A bind source in a running container's root, `/proc/PID/root/PATH` (--ipc container:X binds X's
 * /dev/shm). The kernel copies only mounts of the caller's own mount namespace, so the copy is made
 * from inside PID's: there PATH resolves in that container's root and nowhere else (its symlinks
 * and ".." cannot leave it, as they could through the /proc link), then the child comes back to its
 * own namespace, where the detached copy is attached. Returns the copy, -1 on failure, -2 when
 * `source` is no such path.
 */
static int open_tree_of_process(const char *source, bool recursive) {
  unsigned pid;
  int end = 0;
  if (sscanf(source, "/proc/%u/root/%n", &pid, &end) != 1 || end == 0) return -2;
  const char *path = source + end - 1; /* from the "/" after root */
  char theirs_path[48];
  snprintf(theirs_path, sizeof theirs_path, "/proc/%u/ns/mnt", pid);
  cleanup_close int theirs = open(theirs_path, O_RDONLY | O_CLOEXEC);
  if (theirs < 0) return fail("open the mount namespace of process %u", pid);
  cleanup_close int ours = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ours < 0) return fail("open /proc/self/ns/mnt");
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return fail("open /");
  cleanup_close int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0) return fail("open the working directory");
  if (setns(theirs, CLONE_NEWNS) < 0) return fail("enter the mount namespace of process %u", pid);
  int tree = (int)open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  int e = errno;
  /* back in ours, with the root and working directory it had (setns set both to the namespace's root) */
  if (setns(ours, CLONE_NEWNS) < 0 || fchdir(root) < 0 || chroot(".") < 0 || fchdir(cwd) < 0) {
    if (tree >= 0) close(tree);
    return fail("return to the container's mount namespace");
  }
  errno = e;
  return tree < 0 ? fail("bind mount %s of process %u", path, pid) : tree;
}

static int mount_fs(const char *source, int targetfd, const char *dest, const char *type, unsigned long flags,
                    const char *data) {
  char target[64];
  PROC_FD(target, targetfd);
  if (mount(source, target, type, flags, data && data[0] ? data : NULL) < 0)
    return fail("mount %s on %s", type, dest);
  return 0;
}

static bool is_cgroup2(const char *path) {
  struct statfs s;
  return statfs(path, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

static int do_mount(int rootfd, const struct mount_entry *m, bool userns, const struct process *p) {
  struct stat st;
  bool file = false;
  if ((m->volume || m->chown) && m->bind && prepare_volume(rootfd, m, p->uid, p->gid) < 0) return -1;
  cleanup_close int tree = m->bind ? open_tree_of_process(m->source, m->recursive) : -2;
  if (tree == -1) return -1;
  if (tree >= 0) {
    if (fstat(tree, &st) < 0) return fail("bind mount source %s", m->source);
    file = !S_ISDIR(st.st_mode);
  } else if (m->bind) {
    if (stat(m->source, &st) < 0) return fail("bind mount source %s", m->source);
    file = !S_ISDIR(st.st_mode);
  }
  cleanup_close int fd = mount_target(rootfd, m->destination, file);
  if (fd < 0) return -1;
  int r;
  if (tree >= 0) {
    r = attach_tree(tree, m->source, fd, m->destination, m->attr_set, m->attr_recursive, m->propagation);
  } else if (m->bind) {
    r = bind_onto(m->source, fd, m->destination, m->recursive, m->attr_set, m->attr_recursive, m->propagation);
  } else if (!strcmp(m->type, "cgroup") && m->data && m->data[0]) {
    /* a v1 hierarchy by its controllers (cgroup.ts): in the container's cgroup namespace, rooted at its group */
    r = mount_fs("cgroup", fd, m->destination, "cgroup", m->flags, m->data);
  } else if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")) {
    /* cgroup2 of the container's cgroup namespace; else a read-only view of the host's tree;
       neither is essential (cgroups are not managed yet), so a failure just leaves it out */
    r = -1;
    if (!strcmp(m->type, "cgroup2") || is_cgroup2("/sys/fs/cgroup"))
      r = mount_fs("cgroup2", fd, m->destination, "cgroup2", m->flags, NULL);
    if (r < 0)
      r = bind_onto("/sys/fs/cgroup", fd, m->destination, true,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true, MS_PRIVATE | MS_REC);
    r = 0;
  } else {
    r = mount_fs(m->source, fd, m->destination, m->type, m->flags, m->data);
    if (r < 0 && !strcmp(m->type, "sysfs") && (errno == EPERM || errno == EACCES))
      /* sysfs wants the network namespace to be ours: a read-only bind of the host's, as crun does */
      r = bind_onto("/sys", fd, m->destination, true,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true, MS_PRIVATE | MS_REC);
    else if (r < 0 && !strcmp(m->type, "mqueue") && userns && (errno == EPERM || errno == EACCES))
      r = 0; /* the ipc namespace is not ours: no mqueue */
    else if (r < 0 && !strcmp(m->type, "devpts") && userns && errno == EINVAL && strstr(m->data, "gid=")) {
      /* gid=5 is not mapped in this user namespace */
      char data[512];
      size_t o = 0;
      for (const char *p = m->data; *p && o < sizeof data - 1;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, "gid=", 4)) o += (size_t)snprintf(data + o, sizeof data - o, "%s%.*s", o ? "," : "", (int)len, p);
        p += len + (end ? 1 : 0);
      }
      data[o] = 0;
      r = mount_fs(m->source, fd, m->destination, m->type, m->flags, data);
    }
    if (r == 0 && m->propagation) {
      /* the mount point's fd names what was there before the mount: open the new mount */
      cleanup_close int mnt = open_in_root(rootfd, m->destination, O_PATH);
      char target[64];
      PROC_FD(target, mnt);
      if (mnt < 0 || mount(NULL, target, NULL, m->propagation, NULL) < 0) r = fail("set the propagation of %s", m->destination);
    }
  }
  return r;
}

static const struct {
  const char *name;
  unsigned maj, min;
} DEVICES[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

/* A node named `name` in dirfd: made with mknod while *can_mknod, else (a user namespace may not
   mknod) an empty file with the host's node `host` bound on it nosuid,noexec (as crun). One that
   exists already is kept. */
static int make_node(int dirfd, const char *name, const char *host, mode_t type, mode_t mode, dev_t dev, bool *can_mknod,
                     bool *made) {
  *made = false;
  if (*can_mknod) {
    if (mknodat(dirfd, name, type | mode, dev) == 0) return *made = true, 0;
    if (errno == EEXIST) return 0;
    if (errno != EPERM) return fail("mknod %s", host);
    *can_mknod = false;
  }
  {
    cleanup_close int f = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f < 0) return errno == EEXIST ? 0 : fail("create %s", host);
  }
  cleanup_close int t = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (t < 0) return fail("open %s", host);
  return bind_onto(host, t, host, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false, 0);
}

/* One device of linux.devices (--privileged: the host's), see make_node; a node made by mknod gets
   the spec's mode and owner. */
static int make_spec_device(int rootfd, const struct device *d, bool *can_mknod) {
  const char *slash = strrchr(d->path, '/'), *name = slash + 1;
  char parent[4096];
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - d->path), d->path);
  if (parent[0] && mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
  cleanup_close int pfd = open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
  if (pfd < 0) return fail("open %s in the container", parent[0] ? parent : "/");
  bool made;
  if (make_node(pfd, name, d->path, d->type, d->mode, makedev(d->major, d->minor), can_mknod, &made) < 0) return -1;
  if (made && (fchmodat(pfd, name, d->mode, 0) < 0 || fchownat(pfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0))
    return fail("set the mode and owner of %s", d->path);
  return 0;
}

static int make_devices(int rootfd, const struct container *c, bool userns) {
  cleanup_close int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0 && errno == ENOENT && mkdir_in_root(rootfd, "/dev", 0755) == 0) dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0) return fail("open /dev in the container");
  bool can_mknod = !userns;
  for (size_t i = 0; i < sizeof DEVICES / sizeof DEVICES[0]; i++) {
    char host[16];
    snprintf(host, sizeof host, "/dev/%s", DEVICES[i].name);
    bool made;
    if (make_node(dev, DEVICES[i].name, host, S_IFCHR, 0666, makedev(DEVICES[i].maj, DEVICES[i].min), &can_mknod, &made) < 0)
      return -1;
    if (made && fchmodat(dev, DEVICES[i].name, 0666, 0) < 0) return fail("chmod %s", host); /* past the umask */
  }
  static const char *const LINKS[][2] = {{"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"},
                                         {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                                         {"pts/ptmx", "ptmx"},         {"/proc/kcore", "core"}};
  for (size_t i = 0; i < sizeof LINKS / sizeof LINKS[0]; i++)
    if (symlinkat(LINKS[i][0], dev, LINKS[i][1]) < 0 && errno != EEXIST) return fail("symlink /dev/%s", LINKS[i][1]);
  bool spec_mknod = !userns;
  for (size_t i = 0; i < c->ndevices; i++)
    if (make_spec_device(rootfd, &c->devices[i], &spec_mknod) < 0) return -1;
  return 0;
}

/* ---- overlay ---- */

static void fs_log(int fsfd, char *out, size_t len) {
  /* the kernel explains a failed fsconfig in the context's log: "e overlay: ..." */
  out[0] = 0;
  char line[512];
  ssize_t n;
  size_t o = 0;
  while ((n = read(fsfd, line, sizeof line - 1)) > 0) {
    line[n] = 0;
    if (n > 2 && line[1] == ' ') o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "; " : "", line + 2);
    if (o >= len) break;
  }
}

static int ovl_set(int fs, const char *key, const char *value) {
  if (fsconfig(fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) == 0) return 0;
  int e = errno;
  char why[600];
  fs_log(fs, why, sizeof why);
  errno = e;
  if (e == EINVAL && strstr(why, "lowerdir+")) return -2; /* kernel < 6.8: the one-page string it is */
  if (why[0]) return failx("mount overlay rootfs: %s", why);
  return value ? fail("mount overlay rootfs: %s %s", key, value) : fail("mount overlay rootfs: %s", key);
}

/* Returns the mount fd, -1 on failure, -2 when the kernel lacks `lowerdir+` (use the old API). */
static int overlay_new_api(const struct overlay *ov) {
  cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) return errno == ENOSYS ? -2 : fail("open an overlay filesystem context");
  int r = 0;
  for (size_t i = 0; i < ov->nlower && r == 0; i++) r = ovl_set(fs, "lowerdir+", ov->lower[i]);
  if (r == 0 && ov->upper && (r = ovl_set(fs, "upperdir", ov->upper)) == 0) r = ovl_set(fs, "workdir", ov->work);
  if (r == 0 && ov->userxattr) r = ovl_set(fs, "userxattr", NULL);
  if (r < 0) return r;
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    char why[600];
    fs_log(fs, why, sizeof why);
    errno = e;
    return why[0] ? failx("mount overlay rootfs (%zu layers): %s", ov->nlower, why)
                  : fail("mount overlay rootfs (%zu layers)", ov->nlower);
  }
  int mnt = (int)fsmount(fs, FSMOUNT_CLOEXEC, 0);
  return mnt < 0 ? fail("mount overlay rootfs") : mnt;
}

/* mount(2) with the one-page option string (kernel < 6.8). When the string would not fit,
   the lower names are given relative to their deepest common directory, which becomes our cwd. */
static int overlay_old_api(const struct overlay *ov, const char *target) {
  size_t cap = 64 + (ov->upper ? strlen(ov->upper) + strlen(ov->work) : 0), plen = strlen(ov->lower[0]);
  for (size_t i = 0; i < ov->nlower; i++) {
    cap += strlen(ov->lower[i]) + 1;
    size_t k = 0;
    while (k < plen && ov->lower[i][k] == ov->lower[0][k]) k++;
    plen = k;
  }
  while (plen > 0 && ov->lower[0][plen - 1] != '/') plen--; /* back to a directory boundary */
  bool relative = cap > 4000 && plen > 1;
  cleanup_free char *opts = xcalloc(cap, 1);
  cleanup_free char *dir = xcalloc(plen + 1, 1);
  memcpy(dir, ov->lower[0], plen ? plen - 1 : 0);
  size_t o = (size_t)snprintf(opts, cap, "lowerdir=");
  for (size_t i = 0; i < ov->nlower; i++)
    o += (size_t)snprintf(opts + o, cap - o, "%s%s", i ? ":" : "", relative ? ov->lower[i] + plen : ov->lower[i]);
  if (ov->upper) o += (size_t)snprintf(opts + o, cap - o, ",upperdir=%s,workdir=%s", ov->upper, ov->work);
  if (ov->userxattr) snprintf(opts + o, cap - o, ",userxattr");
  cleanup_close int cwd = -1;
  if (relative && ((cwd = open(".", O_PATH | O_CLOEXEC)) < 0 || chdir(dir) < 0)) return fail("chdir %s", dir);
  int r = 0;
  if (mount("overlay", target, "overlay", 0, opts) < 0) r = fail("mount overlay rootfs (%zu layers)", ov->nlower);
  if (cwd >= 0 && fchdir(cwd) < 0 && r == 0) r = fail("fchdir");
  return r;
}

/* Mount the rootfs on root.path; returns an fd on the new root. */
static int mount_rootfs(const struct container *c) {
  if (c->has_overlay) {
    cleanup_close int mnt = overlay_new_api(&c->overlay);
    if (mnt == -1) return -1; /* -2: no new mount API for overlay here */
    if (mnt >= 0) {
      if (move_mount(mnt, "", AT_FDCWD, c->root_path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return fail("mount overlay rootfs on %s", c->root_path);
      return take_fd(&mnt); /* the fd now names the attached mount's root */
    }
    if (overlay_old_api(&c->overlay, c->root_path) < 0) return -1;
  } else if (mount(c->root_path, c->root_path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    return fail("bind mount rootfs %s", c->root_path);
  }
  int fd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? fail("open rootfs %s", c->root_path) : fd;
}

/*
 * The root directory is the upper dir's, and keep-id's /etc/passwd and /etc/group are files beside it
 * in the container's directory: the container's root owns them (its user must not edit them). They
 * are made by the user, who is not that root when the maps put the user elsewhere (--userns keep-id);
 * otherwise this changes nothing. (/etc/hosts and the like stay the user's: the CLI rewrites them.)
 */
static int own_container_files(const struct container *c) {
  if (!c->has_overlay || !c->overlay.upper) return 0;
  const char *upper = c->overlay.upper, *slash = strrchr(upper, '/');
  if (!slash) return 0;
  size_t n = (size_t)(slash - upper);
  if (lchown(upper, 0, 0) < 0) return fail("chown the upper directory %s", upper);
  for (size_t i = 0; i < c->nmounts; i++) {
    const char *src = c->mounts[i].source;
    const char *dst = c->mounts[i].destination;
    if (!c->mounts[i].bind || !src || strncmp(src, upper, n) || src[n] != '/' || strchr(src + n + 1, '/')) continue;
    if (strcmp(dst, "/etc/passwd") && strcmp(dst, "/etc/group")) continue;
    if (lchown(src, 0, 0) < 0) return fail("chown %s", src);
  }
  return 0;
}

/* The first mount of the spec that waits for the container's cgroups: a cgroup filesystem is mounted
   in the container's cgroup namespace, which the child makes once the shim has placed it in its
   groups. The mounts after it wait too, so the spec's order stays the order of the mounts. */
static size_t first_late_mount(const struct container *c) {
  for (size_t i = 0; i < c->nmounts; i++)
    if (c->mounts[i].type && (!strcmp(c->mounts[i].type, "cgroup") || !strcmp(c->mounts[i].type, "cgroup2"))) return i;
  return c->nmounts;
}

int rootfs_prepare(const struct container *c, bool userns, struct rootfs *r) {
  r->fd = -1;
  r->next = 0;
  if (!c->ns[NS_MNT].enabled) return failx("spec: a mount namespace is required");
  if (ns_join_mnt(c) < 0) return -1;
  /* nothing we mount may propagate back to the host */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) return fail("make / a slave mount");
  if (userns && own_container_files(c) < 0) return -1;
  if ((r->fd = mount_rootfs(c)) < 0) return -1;
  if (c->ns[NS_NET].enabled && !c->ns[NS_NET].path && loopback_up() < 0) return -1;
  for (size_t end = first_late_mount(c); r->next < end; r->next++)
    if (do_mount(r->fd, &c->mounts[r->next], userns, &c->proc) < 0) return -1;
  return 0;
}

int rootfs_enter(const struct container *c, bool userns, struct rootfs *r) {
  {
    cleanup_close int rootfd = take_fd(&r->fd);
    for (; r->next < c->nmounts; r->next++)
      if (do_mount(rootfd, &c->mounts[r->next], userns, &c->proc) < 0) return -1;
    /* /dev's nodes once every mount is made (a mount on /dev or below comes first, as before) */
    if (make_devices(rootfd, c, userns) < 0) return -1;
    /* Docker creates the working directory */
    if (strcmp(c->proc.cwd, "/") && mkdir_in_root(rootfd, c->proc.cwd, 0755) < 0) return -1;
    if (fchdir(rootfd) < 0) return fail("chdir into the rootfs");
  }
  if (syscall(SYS_pivot_root, ".", ".") < 0) return fail("pivot_root");
  /* the old root is stacked under the new one at "/": detach it */
  if (umount2(".", MNT_DETACH) < 0) return fail("detach the old root");
  if (chdir("/") < 0) return fail("chdir /");
  return 0;
}

static int write_sysctl(const struct sysctl *s) {
  char path[512];
  int o = snprintf(path, sizeof path, "/proc/sys/");
  for (const char *k = s->key; *k && o < (int)sizeof path - 1; k++) path[o++] = *k == '.' ? '/' : *k;
  path[o] = 0;
  if (write_file_at(AT_FDCWD, path, s->value, strlen(s->value)) < 0) return fail("set sysctl %s=%s", s->key, s->value);
  return 0;
}

int bind_console(const char *pts) {
  cleanup_close int f = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (f < 0) return fail("create /dev/console");
  if (mount(pts, "/dev/console", NULL, MS_BIND, NULL) < 0) return fail("bind %s on /dev/console", pts);
  return 0;
}

/* Whether a read-only or masked path `p` covers (is, or is above) the file of a sysctl: such a path
   is made only after the sysctls are written (they are written through it). */
static bool covers_sysctl(const struct container *c, const char *p) {
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') n--;
  for (size_t i = 0; i < c->nsysctls; i++) {
    char path[512];
    int o = snprintf(path, sizeof path, "/proc/sys/");
    for (const char *k = c->sysctls[i].key; *k && o < (int)sizeof path - 1; k++) path[o++] = *k == '.' ? '/' : *k;
    path[o] = 0;
    if ((n == 1 && p[0] == '/') || (!strncmp(path, p, n) && (path[n] == '/' || path[n] == 0))) return true;
  }
  return false;
}

static int make_readonly(const char *p) {
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return 0;
    return fail("bind %s read-only", p);
  }
  struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
  if (mount_setattr(AT_FDCWD, p, AT_RECURSIVE, &a, sizeof a) < 0) return fail("make %s read-only", p);
  return 0;
}

/* read-only, as crun masks: an empty tmpfs over a directory, the container's /dev/null over a file */
static int mask(const char *p) {
  struct stat st;
  if (lstat(p, &st) < 0) {
    if (errno == ENOENT) return 0;
    return fail("mask %s", p);
  }
  if (S_ISDIR(st.st_mode)) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount("tmpfs", p, "tmpfs", 0, "size=0k") < 0 || mount_setattr(AT_FDCWD, p, 0, &a, sizeof a) < 0)
      return fail("mask %s", p);
    return 0;
  }
  cleanup_close int t = open(p, O_PATH | O_CLOEXEC);
  if (t < 0) {
    if (errno == ENOENT) return 0;
    return fail("mask %s", p);
  }
  return bind_onto("/dev/null", t, p, false, MOUNT_ATTR_RDONLY, false, 0);
}

/*
 * In two parts around the network: FINISH_EARLY (before MSG_GO, while the shim sets the network up)
 * makes the read-only and masked paths that cover no sysctl's file, and the hostname (its own UTS
 * namespace); FINISH_LATE (after GO) writes the sysctls (a network namespace's keys may name the
 * interfaces the shim makes, and the user's values must win over the network's, as runc writes them
 * after the prestart hooks), then the read-only and masked paths over them (/proc/sys) and the
 * read-only root. The order within each list is the spec's.
 */
int finish_rootfs(const struct container *c, enum finish_part part) {
  bool late = part == FINISH_LATE;
  if (late)
    for (size_t i = 0; i < c->nsysctls; i++)
      if (write_sysctl(&c->sysctls[i]) < 0) return -1;
  for (size_t i = 0; i < c->nreadonly; i++)
    if (covers_sysctl(c, c->readonly[i]) == late && make_readonly(c->readonly[i]) < 0) return -1;
  for (size_t i = 0; i < c->nmasked; i++)
    if (covers_sysctl(c, c->masked[i]) == late && mask(c->masked[i]) < 0) return -1;
  if (late && c->root_readonly) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(AT_FDCWD, "/", 0, &a, sizeof a) < 0) return fail("make the rootfs read-only");
  }
  if (!late && c->hostname && c->ns[NS_UTS].enabled && !c->ns[NS_UTS].path && sethostname(c->hostname, strlen(c->hostname)) < 0)
    return fail("set the hostname");
  return 0;
}
