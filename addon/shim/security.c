/*
 * Capabilities and seccomp.
 *
 * Seccomp: libseccomp turns the OCI LinuxSeccomp object into a BPF program. For Docker's
 * profile over x86_64+x86+x32 that takes ~10 ms, longer than everything else the shim does,
 * so the program is compiled by the shim parent (in parallel with the child's rootfs setup)
 * and cached by the canonical text of the object (verified byte for byte on every hit) in a
 * directory only we can write. The child loads the raw program with seccomp(2).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "shim.h"

#define cleanup_seccomp __attribute__((cleanup(cleanup_seccompp)))
static void cleanup_seccompp(scmp_filter_ctx *ctx) {
  if (*ctx) seccomp_release(*ctx);
}

/* ---- capabilities ---- */

/* Needs CAP_SETPCAP: done before the switch to the container's user. */
int caps_drop_bounding(const struct process *p) {
  if (!p->has_caps) return 0;
  for (int b = 0; b < 64; b++) {
    if (p->caps[CAP_BOUNDING] & (1ULL << b)) continue;
    if (prctl(PR_CAPBSET_DROP, b, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      return fail("drop %s from the bounding set", cap_name(b));
    }
  }
  return 0;
}

/* keep_sys_admin: an intermediate state that still allows loading seccomp without no_new_privs. */
int caps_apply(const struct process *p, bool keep_sys_admin) {
  if (!p->has_caps) return 0;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct cur[2];
  if (syscall(SYS_capget, &hdr, cur) < 0) return fail("capget");
  uint64_t held = (uint64_t)cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
  /* never ask for more than we hold (--privileged where the host root lacks some) */
  uint64_t eff = p->caps[CAP_EFFECTIVE] & held, prm = p->caps[CAP_PERMITTED] & held;
  uint64_t inh = p->caps[CAP_INHERITABLE] & (held | ((uint64_t)cur[0].inheritable | ((uint64_t)cur[1].inheritable << 32)));
  uint64_t amb = p->caps[CAP_AMBIENT] & prm & inh;
  if (keep_sys_admin) {
    uint64_t sa = (1ULL << CAP_SYS_ADMIN) & held;
    eff |= sa;
    prm |= sa;
  }
  struct __user_cap_data_struct data[2] = {{(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
                                           {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)}};
  hdr = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &hdr, data) < 0) return fail("set capabilities");
  if (keep_sys_admin) return 0;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return fail("clear ambient capabilities");
  for (int b = 0; b < 64; b++)
    if ((amb & (1ULL << b)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, b, 0, 0) < 0)
      return fail("raise ambient capability %s", cap_name(b));
  return 0;
}

/* ---- seccomp: OCI → libseccomp → BPF ---- */

static int parse_action(const char *name, json_t *errno_ret, uint32_t *out) {
  int e = json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;
  if (!name) return failx("seccomp: missing action");
  if (!strcmp(name, "SCMP_ACT_ALLOW")) *out = SCMP_ACT_ALLOW;
  else if (!strcmp(name, "SCMP_ACT_ERRNO")) *out = SCMP_ACT_ERRNO((uint16_t)e);
  else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD")) *out = SCMP_ACT_KILL;
  else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS")) *out = SCMP_ACT_KILL_PROCESS;
  else if (!strcmp(name, "SCMP_ACT_TRAP")) *out = SCMP_ACT_TRAP;
  else if (!strcmp(name, "SCMP_ACT_LOG")) *out = SCMP_ACT_LOG;
  else if (!strcmp(name, "SCMP_ACT_TRACE")) *out = SCMP_ACT_TRACE((uint16_t)e);
  else return failx("seccomp: unsupported action %s", name);
  return 0;
}

static int parse_op(const char *op, enum scmp_compare *out) {
  static const struct {
    const char *name;
    enum scmp_compare op;
  } OPS[] = {{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
             {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (size_t i = 0; op && i < sizeof OPS / sizeof OPS[0]; i++)
    if (!strcmp(OPS[i].name, op)) return *out = OPS[i].op, 0;
  return failx("seccomp: unknown operator %s", op ? op : "(none)");
}

int seccomp_flags(json_t *sc, unsigned *flags) {
  static const struct {
    const char *name;
    unsigned flag;
  } FLAGS[] = {{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
               {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
               {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW}};
  json_t *f;
  size_t i;
  *flags = 0;
  json_array_foreach(json_object_get(sc, "flags"), i, f) {
    const char *s = json_string_value(f);
    size_t k;
    for (k = 0; s && k < sizeof FLAGS / sizeof FLAGS[0]; k++)
      if (!strcmp(FLAGS[k].name, s)) break;
    if (!s || k == sizeof FLAGS / sizeof FLAGS[0]) return failx("seccomp: unsupported flag %s", s ? s : "(none)");
    *flags |= FLAGS[k].flag;
  }
  return 0;
}

static int add_arches(scmp_filter_ctx ctx, json_t *arches) {
  json_t *a;
  size_t i;
  json_array_foreach(arches, i, a) {
    const char *s = json_string_value(a);
    if (!s || strncmp(s, "SCMP_ARCH_", 10)) return failx("seccomp: invalid architecture %s", s ? s : "(none)");
    char lower[32];
    size_t n = 0;
    for (const char *c = s + 10; *c && n < sizeof lower - 1; c++) lower[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    lower[n] = 0;
    uint32_t arch = seccomp_arch_resolve_name(lower);
    if (!arch) continue; /* unknown to this libseccomp */
    int r = seccomp_arch_add(ctx, arch);
    if (r < 0 && r != -EEXIST) {
      errno = -r;
      return fail("seccomp: add architecture %s", s);
    }
  }
  return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_t *rule, size_t idx, uint32_t defact) {
  uint32_t action;
  if (parse_action(json_string_value(json_object_get(rule, "action")), json_object_get(rule, "errnoRet"), &action) < 0)
    return -1;
  if (action == defact) return 0; /* libseccomp refuses rules that repeat the default */
  struct scmp_arg_cmp cmp[6];
  unsigned n = 0;
  json_t *arg, *name;
  size_t i;
  json_array_foreach(json_object_get(rule, "args"), i, arg) {
    if (n == 6) return failx("seccomp: syscalls[%zu] has more than 6 arguments", idx);
    json_t *index = json_object_get(arg, "index");
    if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5)
      return failx("seccomp: syscalls[%zu].args[%zu].index must be 0..5", idx, i);
    cmp[n].arg = (unsigned)json_integer_value(index);
    if (parse_op(json_string_value(json_object_get(arg, "op")), &cmp[n].op) < 0) return -1;
    cmp[n].datum_a = (scmp_datum_t)json_integer_value(json_object_get(arg, "value"));
    cmp[n].datum_b = (scmp_datum_t)json_integer_value(json_object_get(arg, "valueTwo"));
    n++;
  }
  /* several comparisons on one argument cannot share a rule: one rule each (as runc does) */
  bool same_arg = false;
  for (unsigned a = 0; a < n; a++)
    for (unsigned b = a + 1; b < n; b++) same_arg |= cmp[a].arg == cmp[b].arg;
  json_array_foreach(json_object_get(rule, "names"), i, name) {
    const char *s = json_string_value(name);
    int nr = s ? seccomp_syscall_resolve_name(s) : __NR_SCMP_ERROR;
    if (nr == __NR_SCMP_ERROR) continue; /* unknown here: skipped */
    int r = 0;
    if (!same_arg) r = seccomp_rule_add_array(ctx, action, nr, n, n ? cmp : NULL);
    else
      for (unsigned c = 0; c < n && (r == 0 || r == -EEXIST); c++) r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[c]);
    if (r < 0 && r != -EEXIST) {
      errno = -r;
      return fail("seccomp: rule for %s", s);
    }
  }
  return 0;
}

int seccomp_compile(json_t *sc, struct bpf *out) {
  memset(out, 0, sizeof *out);
  if (seccomp_flags(sc, &out->flags) < 0) return -1;
  uint32_t defact;
  if (parse_action(json_string_value(json_object_get(sc, "defaultAction")), json_object_get(sc, "defaultErrnoRet"), &defact) < 0)
    return -1;
  cleanup_seccomp scmp_filter_ctx ctx = seccomp_init(defact);
  if (!ctx) return failx("seccomp: cannot create a filter");
  int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r < 0) return errno = -r, fail("seccomp: clear the filter's no_new_privs attribute");
  /* a binary tree instead of a linear chain: slower to build (it is cached), but the kernel
     loads it ~4x faster (1.2 → 0.3 ms for Docker's profile) and every syscall is checked faster
     (an optimisation: a libseccomp without it builds the chain) */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (add_arches(ctx, json_object_get(sc, "architectures")) < 0) return -1;
  json_t *rule;
  size_t i;
  json_array_foreach(json_object_get(sc, "syscalls"), i, rule) if (add_rule(ctx, rule, i, defact) < 0) return -1;
  cleanup_close int mfd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (mfd < 0) return fail("memfd_create");
  if ((r = seccomp_export_bpf(ctx, mfd)) < 0) return errno = -r, fail("seccomp: generate the filter");
  off_t size = lseek(mfd, 0, SEEK_END);
  if (size < 0) return fail("seccomp: read the filter");
  if (size == 0 || size % (off_t)sizeof(struct sock_filter)) return failx("seccomp: generated an empty filter");
  out->insns = xcalloc(1, (size_t)size);
  out->len = (size_t)size;
  if (pread(mfd, out->insns, out->len, 0) != (ssize_t)out->len) return fail("seccomp: read the filter");
  return 0;
}

int seccomp_load_bpf(const struct bpf *b) {
  struct sock_fprog prog = {(unsigned short)(b->len / sizeof(struct sock_filter)), b->insns};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog) < 0) return fail("load the seccomp filter");
  return 0;
}

/* ---- the cache ---- */

static char *canonical;      /* json_dumps of the object being looked up */
static char cache_header[256];

const char *seccomp_default_cachedir(const char *override) {
  static char dir[4096];
  const char *e;
  if (override && override[0]) snprintf(dir, sizeof dir, "%s", override);
  else if ((e = getenv("SKIFF_RUNROOT")) && e[0]) snprintf(dir, sizeof dir, "%s/seccomp", e);
  else if (geteuid() == 0 && !getenv("_SKIFF_IN_USERNS")) snprintf(dir, sizeof dir, "/run/skiff/seccomp");
  else if ((e = getenv("XDG_RUNTIME_DIR")) && e[0]) snprintf(dir, sizeof dir, "%s/skiff/seccomp", e);
  else snprintf(dir, sizeof dir, "/tmp/skiff-run-%u/seccomp", (unsigned)geteuid());
  return dir;
}

/* A directory (or file) we may trust: ours, and nobody else can write it. */
static bool trusted(int fd, bool dir) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 022) &&
         (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int open_cachedir(const char *dir) {
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 && trusted(fd, true) ? take_fd(&fd) : -1;
}

static int mkdirs_private(const char *dir) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0700) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* The cache directory (created 0700 when missing), or -1 when there is none we can trust. */
int seccomp_cache_open(const char *dir) {
  int fd = open_cachedir(dir);
  if (fd < 0 && errno == ENOENT && mkdirs_private(dir) == 0) fd = open_cachedir(dir);
  return fd;
}

static void make_header(size_t jlen, size_t blen) {
  const struct scmp_version *v = seccomp_version();
  struct utsname u;
  if (uname(&u) < 0) memset(&u, 0, sizeof u);
  snprintf(cache_header, sizeof cache_header, "skiff-seccomp 2 libseccomp-%u.%u.%u %s %s %zu %zu\n", v->major, v->minor,
           v->micro, u.release, u.machine, jlen, blen);
}

static char *cache_key(void) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a: names the file; the content is compared in full */
  for (const unsigned char *p = (const unsigned char *)canonical; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  char *k = xcalloc(24, 1);
  snprintf(k, 24, "%016llx.bpf", (unsigned long long)h);
  return k;
}

/* 1 = hit (out filled), 0 = miss. Never fails: the cache is only an optimisation. */
int seccomp_from_cache(json_t *sc, int dfd, struct bpf *out, char **key) {
  memset(out, 0, sizeof *out);
  free(canonical);
  canonical = json_dumps(sc, JSON_COMPACT | JSON_SORT_KEYS);
  if (!canonical) return 0;
  *key = cache_key();
  if (dfd < 0) return 0;
  cleanup_close int fd = openat(dfd, *key, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || !trusted(fd, false) || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size >= (1 << 22)) return 0;
  size_t jlen = strlen(canonical);
  cleanup_free char *buf = malloc((size_t)st.st_size);
  if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) return 0;
  char *nl = memchr(buf, '\n', (size_t)st.st_size);
  size_t hlen = nl ? (size_t)(nl - buf) + 1 : 0, blen = 0;
  if (!nl || sscanf(buf, "skiff-seccomp 2 %*s %*s %*s %*u %zu", &blen) != 1) return 0;
  make_header(jlen, blen);
  if (hlen != strlen(cache_header) || memcmp(buf, cache_header, hlen) || hlen + jlen + blen != (size_t)st.st_size ||
      memcmp(buf + hlen, canonical, jlen) || !blen || blen % sizeof(struct sock_filter) || seccomp_flags(sc, &out->flags) < 0)
    return 0;
  out->insns = xcalloc(1, blen);
  memcpy(out->insns, buf + hlen + jlen, blen);
  out->len = blen;
  return 1;
}

void seccomp_store(int dfd, const char *key, const struct bpf *b) {
  if (!canonical || !key || dfd < 0) return;
  size_t jlen = strlen(canonical);
  make_header(jlen, b->len);
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".%s.%d", key, (int)getpid());
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    bool ok = write_all(fd, cache_header, strlen(cache_header)) == 0 && write_all(fd, canonical, jlen) == 0 &&
              write_all(fd, b->insns, b->len) == 0;
    if (close(fd) < 0) ok = false;
    if (!ok || renameat(dfd, tmp, dfd, key) < 0) unlinkat(dfd, tmp, 0);
  }
}

/* ---- the shim's side: find or compile, and hand the program to the child ---- */

int filter_prepare(struct filter_job *f, json_t *sc, const char *cachedir) {
  memset(f, 0, sizeof *f);
  f->cachefd = -1;
  if (!sc) return 0;
  f->sc = sc;
  if (seccomp_flags(sc, &f->bpf.flags) < 0) return -1;
  f->cachefd = seccomp_cache_open(seccomp_default_cachedir(cachedir));
  f->pending = !seccomp_from_cache(sc, f->cachefd, &f->bpf, &f->key);
  return 0;
}

int filter_deliver(struct filter_job *f, int sock) {
  if (!f->pending) return 0;
  if (seccomp_compile(f->sc, &f->bpf) < 0) return -1;
  cleanup_free char *msg = xcalloc(1, sizeof(unsigned) + f->bpf.len);
  memcpy(msg, &f->bpf.flags, sizeof(unsigned));
  memcpy(msg + sizeof(unsigned), f->bpf.insns, f->bpf.len);
  /* if the child is gone, its error is waiting in the channel: no need to report this */
  chan_send(sock, MSG_BPF, 0, msg, sizeof(unsigned) + f->bpf.len, -1);
  seccomp_store(f->cachefd, f->key, &f->bpf);
  return 0;
}

void filter_free(struct filter_job *f) {
  int e = errno;
  free(f->key);
  free(f->bpf.insns);
  close_fd(&f->cachefd);
  memset(f, 0, sizeof *f);
  f->cachefd = -1;
  errno = e;
}
