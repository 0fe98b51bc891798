/*
 * The container's filesystem, built inside its own mount namespace: overlay rootfs, the spec's
 * mounts (destinations resolved inside the new root with openat2 RESOLVE_IN_ROOT, never through
 * a host symlink), /dev nodes, pivot_root, masked and read-only paths.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "shim.h"

struct flagopt {
  const char *name;
  unsigned long set, clear;
};
static const struct flagopt FLAGS[] = {
    {"ro", MS_RDONLY, 0},        {"rw", 0, MS_RDONLY},           {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},      {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},    {"exec", 0, MS_NOEXEC},         {"strictatime", MS_STRICTATIME, 0},
    {"relatime", MS_RELATIME, 0}, {"noatime", MS_NOATIME, 0},    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0}, {"sync", MS_SYNCHRONOUS, 0}, {NULL, 0, 0}};
static const struct flagopt PROPAGATION[] = {
    {"private", MS_PRIVATE, 0}, {"rprivate", MS_PRIVATE | MS_REC, 0}, {"slave", MS_SLAVE, 0},
    {"rslave", MS_SLAVE | MS_REC, 0}, {"shared", MS_SHARED, 0}, {"rshared", MS_SHARED | MS_REC, 0},
    {NULL, 0, 0}};

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* mkdir -p of `path` inside the root (symlinks resolved within it). */
static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      int fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
      if (fd >= 0) {
        close(fd);
      } else {
        char *slash = strrchr(buf, '/');
        *slash = 0;
        int parent = open_in_root(rootfd, buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
        *slash = '/';
        if (parent < 0) return -1;
        int r = mkdirat(parent, slash + 1, mode);
        int e = errno;
        close(parent);
        if (r < 0 && e != EEXIST) {
          errno = e;
          return -1;
        }
      }
      *p = c;
      if (!c) break;
    }
  }
  return 0;
}

/* Create (if needed) and open the mount target `dest` inside the root; `file` makes a file target. */
static int mount_target(int rootfd, const char *dest, bool file, int errfd) {
  int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd >= 0) return fd;
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", dest);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = 0;
    if (mkdir_in_root(rootfd, parent, 0755) < 0) child_fail(errfd, 125, "create mount point %s: %s", dest, strerror(errno));
  }
  if (file) {
    int pfd = open_in_root(rootfd, slash && slash != parent ? parent : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) child_fail(errfd, 125, "open %s: %s", parent, strerror(errno));
    int f = openat(pfd, strrchr(dest, '/') + 1, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    close(pfd);
    if (f < 0) child_fail(errfd, 125, "create mount point %s: %s", dest, strerror(errno));
    close(f);
  } else if (mkdir_in_root(rootfd, dest, 0755) < 0) {
    child_fail(errfd, 125, "create mount point %s: %s", dest, strerror(errno));
  }
  fd = open_in_root(rootfd, dest, O_PATH);
  if (fd < 0) child_fail(errfd, 125, "open mount point %s: %s", dest, strerror(errno));
  return fd;
}

static void parse_options(json_t *opts, unsigned long *flags, unsigned long *prop, char *data, size_t datalen) {
  size_t i;
  json_t *o;
  data[0] = 0;
  json_array_foreach(opts, i, o) {
    const char *s = json_string_value(o);
    if (!s) continue;
    bool known = false;
    for (const struct flagopt *f = FLAGS; f->name; f++)
      if (!strcmp(f->name, s)) {
        *flags = (*flags | f->set) & ~f->clear;
        known = true;
      }
    for (const struct flagopt *f = PROPAGATION; f->name; f++)
      if (!strcmp(f->name, s)) {
        *prop |= f->set;
        known = true;
      }
    if (!known) {
      size_t n = strlen(data);
      snprintf(data + n, datalen - n, "%s%s", n ? "," : "", s);
    }
  }
}

static void do_mount(int rootfd, json_t *m, bool userns, int errfd) {
  const char *dest = json_string_value(json_object_get(m, "destination"));
  const char *type = json_string_value(json_object_get(m, "type"));
  const char *src = json_string_value(json_object_get(m, "source"));
  if (!dest || !type) child_fail(errfd, 125, "invalid mount in spec");
  unsigned long flags = 0, prop = 0;
  char data[1024];
  parse_options(json_object_get(m, "options"), &flags, &prop, data, sizeof data);
  bool bind = !strcmp(type, "bind") || (flags & MS_BIND);
  struct stat st;
  bool file = bind && src && stat(src, &st) == 0 && !S_ISDIR(st.st_mode);
  if (bind && src && stat(src, &st) < 0) child_fail(errfd, 125, "bind mount source %s: %s", src, strerror(errno));
  int fd = mount_target(rootfd, dest, file, errfd);
  char target[64];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  if (bind) {
    if (mount(src, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
      child_fail(errfd, 125, "bind mount %s on %s: %s", src, dest, strerror(errno));
    /* the fd still names the covered inode: reopen to reach the new mount */
    close(fd);
    fd = open_in_root(rootfd, dest, O_PATH);
    if (fd < 0) child_fail(errfd, 125, "open %s: %s", dest, strerror(errno));
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    unsigned long want = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (want) {
      /* a remount must keep the flags the kernel locked for a user namespace */
      struct statvfs sv;
      unsigned long keep = 0;
      if (statvfs(target, &sv) == 0)
        keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
      if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | want | keep, NULL) < 0)
        child_fail(errfd, 125, "remount %s read-only: %s", dest, strerror(errno));
    }
  } else {
    int r = mount(src, target, type, flags & ~(MS_BIND | MS_REC), data[0] ? data : NULL);
    if (r < 0 && !strcmp(type, "sysfs") && (errno == EPERM || errno == EACCES)) {
      /* sysfs needs to own the netns: fall back to a read-only bind of the host's, as crun does */
      r = mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
      if (r == 0) mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    if (r < 0 && !strcmp(type, "mqueue") && userns) r = 0; /* optional when the ipc ns is not ours */
    if (r < 0 && !strcmp(type, "devpts") && userns && strstr(data, "gid=")) r = mount(src, target, type, flags, "newinstance,ptmxmode=0666,mode=0620");
    if (r < 0) child_fail(errfd, 125, "mount %s (%s) on %s: %s", src ? src : type, type, dest, strerror(errno));
    close(fd);
    fd = open_in_root(rootfd, dest, O_PATH);
    if (fd < 0) child_fail(errfd, 125, "open %s: %s", dest, strerror(errno));
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  }
  if (prop && mount(NULL, target, NULL, prop, NULL) < 0)
    child_fail(errfd, 125, "set propagation of %s: %s", dest, strerror(errno));
  close(fd);
}

static const struct {
  const char *name;
  unsigned maj, min;
} DEVICES[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

static void make_devices(int rootfd, bool userns, int errfd) {
  int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0) child_fail(errfd, 125, "open /dev: %s", strerror(errno));
  for (size_t i = 0; i < sizeof DEVICES / sizeof DEVICES[0]; i++) {
    const char *n = DEVICES[i].name;
    if (!userns && mknodat(dev, n, S_IFCHR | 0666, makedev(DEVICES[i].maj, DEVICES[i].min)) == 0) {
      fchmodat(dev, n, 0666, 0);
      continue;
    }
    if (!userns && errno != EPERM) child_fail(errfd, 125, "mknod /dev/%s: %s", n, strerror(errno));
    /* in a user namespace devices cannot be created: bind the host's */
    int f = openat(dev, n, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (f < 0) child_fail(errfd, 125, "create /dev/%s: %s", n, strerror(errno));
    char host[32], target[64];
    snprintf(host, sizeof host, "/dev/%s", n);
    snprintf(target, sizeof target, "/proc/self/fd/%d", f);
    int tfd = openat(dev, n, O_PATH | O_CLOEXEC);
    snprintf(target, sizeof target, "/proc/self/fd/%d", tfd);
    if (mount(host, target, NULL, MS_BIND, NULL) < 0) child_fail(errfd, 125, "bind %s: %s", host, strerror(errno));
    close(tfd);
    close(f);
  }
  const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                            {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
      child_fail(errfd, 125, "symlink /dev/%s: %s", links[i][1], strerror(errno));
  close(dev);
}

static int overlay_mount(json_t *ov, const char *rootfs, bool userns) {
  json_t *lower = json_object_get(ov, "lower");
  const char *upper = json_string_value(json_object_get(ov, "upper"));
  const char *work = json_string_value(json_object_get(ov, "work"));
  bool userxattr = json_is_true(json_object_get(ov, "userxattr"));
  size_t n = json_array_size(lower);
  if (!n || !upper || !work) {
    errno = EINVAL;
    return fail("spec: skiff.overlay needs lower, upper and work");
  }
  /* All lowers share one directory (layers/l): mount from there with short relative names. */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", json_string_value(json_array_get(lower, 0)));
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  size_t len = 0, cap = 256 + n * 80 + strlen(upper) + strlen(work);
  char *opts = malloc(cap);
  if (!opts) return fail_errno("malloc");
  len += snprintf(opts, cap, "lowerdir=");
  size_t i;
  json_t *l;
  bool relative = true;
  json_array_foreach(lower, i, l) {
    const char *p = json_string_value(l);
    if (strncmp(p, dir, strlen(dir)) || p[strlen(dir)] != '/') relative = false;
  }
  json_array_foreach(lower, i, l) {
    const char *p = json_string_value(l);
    len += snprintf(opts + len, cap - len, "%s%s", i ? ":" : "", relative ? p + strlen(dir) + 1 : p);
  }
  len += snprintf(opts + len, cap - len, ",upperdir=%s,workdir=%s%s", upper, work, userxattr ? ",userxattr" : "");
  int cwd = open(".", O_PATH | O_CLOEXEC);
  if (relative && chdir(dir) < 0) return fail_errno("chdir %s", dir);
  int r = mount("overlay", rootfs, "overlay", 0, opts);
  int e = errno;
  if (cwd >= 0) {
    if (fchdir(cwd) < 0) { /* best effort: we chdir into the rootfs next */ }
    close(cwd);
  }
  errno = e;
  if (r < 0) {
    fail_errno("mount overlay rootfs (%zu layers%s)", n, userns ? ", rootless" : "");
    free(opts);
    return -1;
  }
  free(opts);
  return 0;
}

static void loopback_up(int errfd) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) child_fail(errfd, 125, "socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) child_fail(errfd, 125, "get lo flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) child_fail(errfd, 125, "bring lo up: %s", strerror(errno));
  close(s);
}

static void mask_paths(json_t *masked, json_t *ro, int errfd) {
  size_t i;
  json_t *p;
  json_array_foreach(masked, i, p) {
    const char *path = json_string_value(p);
    struct stat st;
    if (!path || stat(path, &st) < 0) continue;
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") : mount("/dev/null", path, NULL, MS_BIND, NULL);
    if (r < 0 && errno != ENOENT) child_fail(errfd, 125, "mask %s: %s", path, strerror(errno));
  }
  json_array_foreach(ro, i, p) {
    const char *path = json_string_value(p);
    struct stat st;
    if (!path || stat(path, &st) < 0) continue;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) child_fail(errfd, 125, "bind %s: %s", path, strerror(errno));
    struct statvfs sv;
    unsigned long keep = statvfs(path, &sv) == 0 ? sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC) : 0;
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
      child_fail(errfd, 125, "make %s read-only: %s", path, strerror(errno));
  }
}

static bool has_ns(json_t *spec, const char *type) {
  size_t i;
  json_t *n;
  json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, n)
    if (!strcmp(json_string_value(json_object_get(n, "type")) ?: "", type)) return true;
  return false;
}

int setup_rootfs(json_t *spec, bool userns, int errfd) {
  json_t *root = json_object_get(spec, "root");
  const char *rootfs = json_string_value(json_object_get(root, "path"));
  if (!rootfs) child_fail(errfd, 125, "spec: root.path missing");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) child_fail(errfd, 125, "make / private: %s", strerror(errno));
  json_t *ov = json_object_get(json_object_get(spec, "skiff"), "overlay");
  if (ov) {
    if (overlay_mount(ov, rootfs, userns) < 0) child_fail(errfd, 125, "mount overlay rootfs: %s", strerror(errno));
  } else if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    child_fail(errfd, 125, "bind rootfs: %s", strerror(errno));
  }
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail(errfd, 125, "open rootfs: %s", strerror(errno));
  if (has_ns(spec, "network")) loopback_up(errfd);
  size_t i;
  json_t *m;
  bool dev_done = false;
  json_array_foreach(json_object_get(spec, "mounts"), i, m) {
    const char *dest = json_string_value(json_object_get(m, "destination"));
    if (!dev_done && dest && strncmp(dest, "/dev/", 5) == 0) {
      make_devices(rootfd, userns, errfd);
      dev_done = true;
    }
    do_mount(rootfd, m, userns, errfd);
  }
  if (!dev_done) make_devices(rootfd, userns, errfd);
  /* working directory, created like Docker does for WORKDIR/-w */
  const char *cwd = json_string_value(json_object_get(json_object_get(spec, "process"), "cwd"));
  if (cwd && strcmp(cwd, "/") && mkdir_in_root(rootfd, cwd, 0755) < 0)
    child_fail(errfd, 125, "create working directory %s: %s", cwd, strerror(errno));
  if (fchdir(rootfd) < 0) child_fail(errfd, 125, "chdir rootfs: %s", strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail(errfd, 125, "pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) child_fail(errfd, 125, "detach old root: %s", strerror(errno));
  if (chdir("/") < 0) child_fail(errfd, 125, "chdir /: %s", strerror(errno));
  close(rootfd);
  json_t *linux_ = json_object_get(spec, "linux");
  mask_paths(json_object_get(linux_, "maskedPaths"), json_object_get(linux_, "readonlyPaths"), errfd);
  if (json_is_true(json_object_get(root, "readonly"))) {
    struct statvfs sv;
    unsigned long keep = statvfs("/", &sv) == 0 ? sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC) : 0;
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
      child_fail(errfd, 125, "remount / read-only: %s", strerror(errno));
  }
  const char *hostname = json_string_value(json_object_get(spec, "hostname"));
  if (hostname && has_ns(spec, "uts") && sethostname(hostname, strlen(hostname)) < 0)
    child_fail(errfd, 125, "sethostname: %s", strerror(errno));
  return 0;
}
