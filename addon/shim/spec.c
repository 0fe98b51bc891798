/*
 * The OCI runtime spec (config.json, or an exec's process.json) → the structs of shim.h.
 * Everything is validated here, in the shim parent, so the child only executes.
 * Strings point into the jansson tree, which lives as long as the process.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

static const char *const CAPS[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
#define NCAPS (int)(sizeof CAPS / sizeof CAPS[0])

int cap_from_name(const char *name) {
  for (int b = 0; b < NCAPS; b++)
    if (!strcasecmp(CAPS[b], name) || !strcasecmp(CAPS[b] + 4, name)) return b;
  return -1;
}

const char *cap_name(int bit) { return bit >= 0 && bit < NCAPS ? CAPS[bit] : "CAP_?"; }

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* Array of strings → NULL-terminated vector (pointers into the tree). */
static int strv(json_t *arr, const char *what, char ***out, size_t *n) {
  *out = NULL;
  if (n) *n = 0;
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return failx("spec: %s must be an array", what);
  size_t len = json_array_size(arr), i;
  char **v = xcalloc(len + 1, sizeof *v);
  *out = v; /* the container owns it (spec_free_container) */
  json_t *e;
  json_array_foreach(arr, i, e) {
    if (!json_is_string(e)) return failx("spec: %s[%zu] must be a string", what, i);
    v[i] = (char *)json_string_value(e);
  }
  if (n) *n = len;
  return 0;
}

static int uint_field(json_t *o, const char *key, const char *what, unsigned long long max, unsigned long long *out) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (unsigned long long)json_integer_value(v) > max)
    return failx("spec: %s.%s must be an integer in 0..%llu", what, key, max);
  *out = (unsigned long long)json_integer_value(v);
  return 0;
}

static int parse_caps(json_t *caps, struct process *p) {
  static const char *const SETS[CAP_NSETS] = {"bounding", "effective", "permitted", "inheritable", "ambient"};
  p->has_caps = caps && json_is_object(caps);
  if (!p->has_caps) return 0;
  for (int s = 0; s < CAP_NSETS; s++) {
    json_t *list = json_object_get(caps, SETS[s]), *c;
    size_t i;
    if (list && !json_is_array(list) && !json_is_null(list)) return failx("spec: process.capabilities.%s must be an array", SETS[s]);
    json_array_foreach(list, i, c) {
      const char *name = json_string_value(c);
      int bit = name ? cap_from_name(name) : -1;
      if (bit >= 0) p->caps[s] |= 1ULL << bit; /* unknown names (newer kernels) are ignored, as runc does */
    }
  }
  return 0;
}

static const struct {
  const char *name;
  int resource;
} RLIMITS[] = {{"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_DATA", RLIMIT_DATA},
               {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
               {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},     {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
               {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
               {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
               {"RLIMIT_RTTIME", RLIMIT_RTTIME}};

static int parse_rlimits(json_t *arr, struct process *p) {
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return failx("spec: process.rlimits must be an array");
  p->rlimits = xcalloc(json_array_size(arr), sizeof *p->rlimits);
  size_t i;
  json_t *r;
  json_array_foreach(arr, i, r) {
    const char *type = str(r, "type");
    size_t k;
    for (k = 0; type && k < sizeof RLIMITS / sizeof RLIMITS[0]; k++)
      if (!strcmp(RLIMITS[k].name, type)) break;
    if (!type || k == sizeof RLIMITS / sizeof RLIMITS[0]) return failx("spec: unknown rlimit type %s", type ? type : "(none)");
    unsigned long long soft = 0, hard = 0;
    if (uint_field(r, "soft", "process.rlimits[]", ULLONG_MAX, &soft) < 0 ||
        uint_field(r, "hard", "process.rlimits[]", ULLONG_MAX, &hard) < 0)
      return -1;
    p->rlimits[p->nrlimits].resource = RLIMITS[k].resource;
    p->rlimits[p->nrlimits].limit.rlim_cur = soft;
    p->rlimits[p->nrlimits].limit.rlim_max = hard;
    p->nrlimits++;
  }
  return 0;
}

int spec_parse_process(json_t *j, struct process *p) {
  memset(p, 0, sizeof *p);
  if (!json_is_object(j)) return failx("spec: process must be an object");
  p->terminal = json_is_true(json_object_get(j, "terminal"));
  json_t *user = json_object_get(j, "user");
  if (user) {
    unsigned long long v = 0;
    if (uint_field(user, "uid", "process.user", UINT32_MAX - 1, &v) < 0) return -1;
    p->uid = (uid_t)v;
    if (uint_field(user, "gid", "process.user", UINT32_MAX - 1, &v) < 0) return -1;
    p->gid = (gid_t)v;
    json_t *umask = json_object_get(user, "umask");
    if (umask && !json_is_null(umask)) {
      if (uint_field(user, "umask", "process.user", 0777, &v) < 0) return -1;
      p->has_umask = true;
      p->umask = (mode_t)v;
    }
    json_t *groups = json_object_get(user, "additionalGids"), *g;
    size_t i;
    if (groups && !json_is_array(groups) && !json_is_null(groups)) return failx("spec: process.user.additionalGids must be an array");
    p->groups = xcalloc(json_array_size(groups), sizeof *p->groups);
    json_array_foreach(groups, i, g) {
      if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) >= UINT32_MAX)
        return failx("spec: process.user.additionalGids[%zu] is not a gid", i);
      p->groups[p->ngroups++] = (gid_t)json_integer_value(g);
    }
  }
  size_t argc;
  if (strv(json_object_get(j, "args"), "process.args", &p->argv, &argc) < 0) return -1;
  if (argc == 0) return failx("spec: process.args is empty: no command specified");
  if (strv(json_object_get(j, "env"), "process.env", &p->envp, NULL) < 0) return -1;
  if (!p->envp) p->envp = xcalloc(1, sizeof *p->envp);
  p->cwd = str(j, "cwd");
  if (!p->cwd || p->cwd[0] != '/') return failx("spec: process.cwd must be an absolute path");
  if (parse_caps(json_object_get(j, "capabilities"), p) < 0) return -1;
  p->nnp = json_is_true(json_object_get(j, "noNewPrivileges"));
  if (parse_rlimits(json_object_get(j, "rlimits"), p) < 0) return -1;
  json_t *oom = json_object_get(j, "oomScoreAdj");
  if (oom && !json_is_null(oom)) {
    if (!json_is_integer(oom) || json_integer_value(oom) < -1000 || json_integer_value(oom) > 1000)
      return failx("spec: process.oomScoreAdj must be in -1000..1000");
    p->has_oom = true;
    p->oom_score_adj = (int)json_integer_value(oom);
  }
  json_t *sc = json_object_get(j, "seccomp");
  p->seccomp = json_is_object(sc) ? sc : NULL;
  return 0;
}

/* ---- mounts ---- */

static const struct {
  const char *name;
  unsigned long set, clear; /* MS_* */
  uint64_t attr;            /* MOUNT_ATTR_* this option adds to a bind */
  bool recursive_attr;      /* "rro", "rnosuid", ...: apply to every submount */
} OPTIONS[] = {
    {"ro", MS_RDONLY, 0, MOUNT_ATTR_RDONLY, false},
    {"rw", 0, MS_RDONLY, 0, false},
    {"nosuid", MS_NOSUID, 0, MOUNT_ATTR_NOSUID, false},
    {"suid", 0, MS_NOSUID, 0, false},
    {"nodev", MS_NODEV, 0, MOUNT_ATTR_NODEV, false},
    {"dev", 0, MS_NODEV, 0, false},
    {"noexec", MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC, false},
    {"exec", 0, MS_NOEXEC, 0, false},
    {"sync", MS_SYNCHRONOUS, 0, 0, false},
    {"async", 0, MS_SYNCHRONOUS, 0, false},
    {"dirsync", MS_DIRSYNC, 0, 0, false},
    {"mand", MS_MANDLOCK, 0, 0, false},
    {"nomand", 0, MS_MANDLOCK, 0, false},
    {"atime", 0, MS_NOATIME, 0, false},
    {"noatime", MS_NOATIME, 0, MOUNT_ATTR_NOATIME, false},
    {"diratime", 0, MS_NODIRATIME, 0, false},
    {"nodiratime", MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME, false},
    {"relatime", MS_RELATIME, 0, 0, false},
    {"norelatime", 0, MS_RELATIME, 0, false},
    {"strictatime", MS_STRICTATIME, 0, 0, false},
    {"nostrictatime", 0, MS_STRICTATIME, 0, false},
    {"nosymfollow", 0, 0, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rro", MS_RDONLY, 0, MOUNT_ATTR_RDONLY, true},
    {"rrw", 0, MS_RDONLY, 0, true},
    {"rnosuid", MS_NOSUID, 0, MOUNT_ATTR_NOSUID, true},
    {"rnodev", MS_NODEV, 0, MOUNT_ATTR_NODEV, true},
    {"rnoexec", MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC, true},
    {"rnosymfollow", 0, 0, MOUNT_ATTR_NOSYMFOLLOW, true},
};

static const struct {
  const char *name;
  unsigned long flags;
} PROPAGATION[] = {{"private", MS_PRIVATE},          {"rprivate", MS_PRIVATE | MS_REC},
                   {"slave", MS_SLAVE},              {"rslave", MS_SLAVE | MS_REC},
                   {"shared", MS_SHARED},            {"rshared", MS_SHARED | MS_REC},
                   {"unbindable", MS_UNBINDABLE},    {"runbindable", MS_UNBINDABLE | MS_REC}};

static int parse_mount(json_t *m, size_t idx, struct mount_entry *e) {
  memset(e, 0, sizeof *e);
  e->destination = str(m, "destination");
  e->type = str(m, "type");
  e->source = str(m, "source");
  if (!e->destination || e->destination[0] != '/') return failx("spec: mounts[%zu].destination must be an absolute path", idx);
  if (!e->type) e->type = "bind"; /* OCI: type may be omitted for binds */
  json_t *opts = json_object_get(m, "options"), *o;
  size_t i, datalen = 0;
  bool rec_attr = false;
  e->bind = !strcmp(e->type, "bind") || !strcmp(e->type, "rbind");
  e->recursive = !strcmp(e->type, "rbind");
  json_array_foreach(opts, i, o) datalen += (json_string_length(o) + 1);
  e->data = xcalloc(datalen + 1, 1);
  json_array_foreach(opts, i, o) {
    const char *s = json_string_value(o);
    if (!s) return failx("spec: mounts[%zu].options must be strings", idx);
    if (!strcmp(s, "bind") || !strcmp(s, "rbind")) {
      e->bind = true;
      e->recursive |= s[0] == 'r';
      continue;
    }
    if (!strcmp(s, "remount") || !strcmp(s, "tmpcopyup") || !strcmp(s, "defaults")) continue;
    if (!strcmp(s, "skiff-volume") || !strcmp(s, "skiff-copyup")) {
      e->volume = true;
      e->copyup |= s[6] == 'c';
      continue;
    }
    if (!strcmp(s, "skiff-chown")) {
      e->chown = true;
      continue;
    }
    bool known = false;
    for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0] && !known; k++)
      if (!strcmp(OPTIONS[k].name, s)) {
        e->flags = (e->flags | OPTIONS[k].set) & ~OPTIONS[k].clear;
        e->attr_set |= OPTIONS[k].attr;
        rec_attr |= OPTIONS[k].recursive_attr;
        known = true;
      }
    for (size_t k = 0; k < sizeof PROPAGATION / sizeof PROPAGATION[0] && !known; k++)
      if (!strcmp(PROPAGATION[k].name, s)) {
        e->propagation = PROPAGATION[k].flags;
        known = true;
      }
    if (!known) {
      size_t n = strlen(e->data);
      snprintf(e->data + n, datalen + 1 - n, "%s%s", n ? "," : "", s);
    }
  }
  /* a read-only rbind is read-only all the way down (Docker ≥ 25 does the same) */
  e->attr_recursive = rec_attr || e->recursive;
  if (e->bind && !e->source) return failx("spec: mounts[%zu] (%s): bind mount without a source", idx, e->destination);
  return 0;
}

static int path_list(json_t *arr, const char *what, const char ***out, size_t *n) {
  return strv(arr, what, (char ***)out, n);
}

static int parse_idmaps(json_t *arr, const char *what, struct idmap **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return failx("spec: %s must be an array", what);
  *out = xcalloc(json_array_size(arr), sizeof **out);
  size_t i;
  json_t *m;
  json_array_foreach(arr, i, m) {
    unsigned long long c = 0, h = 0, s = 0;
    if (uint_field(m, "containerID", what, UINT32_MAX, &c) < 0 || uint_field(m, "hostID", what, UINT32_MAX, &h) < 0 ||
        uint_field(m, "size", what, UINT32_MAX, &s) < 0)
      return -1;
    (*out)[i] = (struct idmap){c, h, s};
  }
  *n = json_array_size(arr);
  return 0;
}

/* "0:1000:1,1:100000:65536" (the `unshare` command line) */
int parse_idmap_text(const char *text, struct idmap **out, size_t *n) {
  size_t count = 1;
  for (const char *p = text; *p; p++) count += *p == ',';
  *out = xcalloc(count, sizeof **out);
  *n = 0;
  const char *p = text;
  while (*p) {
    unsigned long c = 0, h = 0, s = 0;
    int used = 0;
    if (sscanf(p, "%lu:%lu:%lu%n", &c, &h, &s, &used) != 3 || used == 0 || s == 0)
      return failx("invalid id mapping \"%s\" (want containerID:hostID:size[,...])", text);
    (*out)[(*n)++] = (struct idmap){c, h, s};
    p += used;
    if (*p == ',') p++;
    else if (*p) return failx("invalid id mapping \"%s\" (want containerID:hostID:size[,...])", text);
  }
  if (!*n) return failx("empty id mapping");
  return 0;
}

/* Whether file is in one of the container's groups or in the parent of one (a v1 cpuset parent). */
static bool in_cgroups(const struct container *c, const char *file) {
  if (strstr(file, "/../") || strstr(file, "/./")) return false;
  const char *slash = strrchr(file, '/');
  for (size_t i = 0; slash && i < c->ncgroups; i++) {
    size_t dl = strlen(c->cgroups[i]);
    const char *up = strrchr(c->cgroups[i], '/');
    size_t pl = up ? (size_t)(up - c->cgroups[i]) : 0;
    if ((size_t)(slash - file) == dl && !strncmp(file, c->cgroups[i], dl)) return true;
    if (pl && (size_t)(slash - file) == pl && !strncmp(file, c->cgroups[i], pl)) return true;
  }
  return false;
}

/* skiff.cgroupWrites: [[file, value], ...] */
static int parse_cgroup_writes(json_t *arr, struct container *c) {
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return failx("spec: skiff.cgroupWrites must be an array");
  c->cgroup_writes = xcalloc(2 * json_array_size(arr) + 1, sizeof *c->cgroup_writes);
  size_t i;
  json_t *w;
  json_array_foreach(arr, i, w) {
    const char *file = json_string_value(json_array_get(w, 0)), *value = json_string_value(json_array_get(w, 1));
    if (!json_is_array(w) || json_array_size(w) != 2 || !file || !value)
      return failx("spec: skiff.cgroupWrites[%zu] must be [file, value]", i);
    if (!in_cgroups(c, file)) return failx("spec: skiff.cgroupWrites[%zu]: %s is not in a cgroup of skiff.cgroups", i, file);
    c->cgroup_writes[2 * i] = file;
    c->cgroup_writes[2 * i + 1] = value;
  }
  c->ncgroup_writes = json_array_size(arr);
  return 0;
}

static int parse_skiff(json_t *ext, struct container *c) {
  if (!ext) return 0;
  if (!json_is_object(ext)) return failx("spec: skiff must be an object");
  json_t *ov = json_object_get(ext, "overlay");
  if (ov) {
    c->has_overlay = true;
    if (path_list(json_object_get(ov, "lower"), "skiff.overlay.lower", &c->overlay.lower, &c->overlay.nlower) < 0) return -1;
    if (!c->overlay.nlower) return failx("spec: skiff.overlay.lower is empty");
    c->overlay.upper = str(ov, "upper");
    c->overlay.work = str(ov, "work");
    if (!c->overlay.upper != !c->overlay.work) return failx("spec: skiff.overlay needs both upper and work (or neither)");
    c->overlay.userxattr = json_is_true(json_object_get(ov, "userxattr"));
  }
  c->exit_file = str(ext, "exitFile");
  c->pid_file = str(ext, "pidFile");
  c->seccomp_cache = str(ext, "seccompCache");
  c->trash_dir = str(ext, "trashDir");
  json_t *ni = json_object_get(ext, "nameIndex");
  if (ni) {
    c->names = (struct name_link){(char *)str(ni, "dir"), (char *)str(ni, "lock"), (char *)str(ni, "record"), (char *)str(ni, "id")};
    if (!c->names.dir || !c->names.lock || !c->names.record || !c->names.id)
      return failx("spec: skiff.nameIndex needs dir, lock, record and id");
  }
  c->idmap_helpers = json_is_true(json_object_get(ext, "idmapHelpers"));
  c->die_with_parent = json_is_true(json_object_get(ext, "dieWithParent"));
  c->monitor = json_object_get(ext, "monitor");
  c->events = json_object_get(ext, "events");
  if (path_list(json_object_get(ext, "cgroups"), "skiff.cgroups", &c->cgroups, &c->ncgroups) < 0) return -1;
  for (size_t i = 0; i < c->ncgroups; i++)
    if (c->cgroups[i][0] != '/') return failx("spec: skiff.cgroups[%zu] must be an absolute path", i);
  if (parse_cgroup_writes(json_object_get(ext, "cgroupWrites"), c) < 0) return -1;
  if (path_list(json_object_get(ext, "remove"), "skiff.remove", &c->remove, &c->nremove) < 0) return -1;
  json_t *net = json_object_get(ext, "network");
  c->network_status = str(ext, "networkStatusFile");
  if (!net || json_is_null(net)) return 0;
  c->network = xcalloc(1, sizeof *c->network);
  return net_plan_parse(net, c->network);
}

/* linux.resources.devices: {allow, type?: a|b|c (a), major?, minor? (absent or null: any), access?: rwm (rwm)} */
static int parse_dev_rules(json_t *arr, struct container *c) {
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return failx("spec: linux.resources.devices must be an array");
  c->dev_rules = xcalloc(json_array_size(arr) + 1, sizeof *c->dev_rules);
  size_t i;
  json_t *d;
  json_array_foreach(arr, i, d) {
    struct dev_rule *r = &c->dev_rules[c->ndev_rules++];
    json_t *allow = json_object_get(d, "allow");
    if (!json_is_boolean(allow)) return failx("spec: linux.resources.devices[%zu].allow must be a boolean", i);
    r->allow = json_is_true(allow);
    const char *type = str(d, "type"), *access = str(d, "access");
    if (json_object_get(d, "type") && !json_is_null(json_object_get(d, "type")) &&
        (!type || strlen(type) != 1 || !strchr("abc", type[0])))
      return failx("spec: linux.resources.devices[%zu].type must be a, b or c", i);
    r->type = type ? type[0] : 'a';
    const char *keys[2] = {"major", "minor"};
    long long *vals[2] = {&r->major, &r->minor};
    for (int k = 0; k < 2; k++) {
      unsigned long long v = 0;
      *vals[k] = -1;
      json_t *j = json_object_get(d, keys[k]);
      if (!j || json_is_null(j) || (json_is_integer(j) && json_integer_value(j) == -1)) continue;
      if (uint_field(d, keys[k], "linux.resources.devices[]", 0xfffff, &v) < 0) return -1;
      *vals[k] = (long long)v;
    }
    if (json_object_get(d, "access") && !json_is_null(json_object_get(d, "access")) && !access)
      return failx("spec: linux.resources.devices[%zu].access must be a string", i);
    r->access = access ? 0 : DEV_ACC_MKNOD | DEV_ACC_READ | DEV_ACC_WRITE;
    for (const char *a = access; a && *a; a++) {
      unsigned bit = *a == 'r' ? DEV_ACC_READ : *a == 'w' ? DEV_ACC_WRITE : *a == 'm' ? DEV_ACC_MKNOD : 0;
      if (!bit) return failx("spec: linux.resources.devices[%zu].access \"%s\" holds other letters than r, w and m", i, access);
      r->access |= bit;
    }
    if (!r->access) return failx("spec: linux.resources.devices[%zu].access is empty", i);
  }
  return 0;
}

int spec_load_container(const char *bundle, struct container *c) {
  memset(c, 0, sizeof *c);
  c->bundle = xstrdup(bundle);
  char path[4096];
  if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path) return failx("bundle path too long");
  json_error_t jerr;
  json_object_seed((size_t)getpid()); /* not /dev/urandom: the input is the CLI's, not an attacker's */
  c->json = json_load_file(path, 0, &jerr);
  if (!c->json) {
    if (jerr.line < 0) return failx("read %s: %s", path, jerr.text);
    return failx("parse %s: %s (line %d)", path, jerr.text, jerr.line);
  }
  json_t *j = c->json;
  /* the skiff extension first: a spec error must still land in the exit file */
  if (parse_skiff(json_object_get(j, "skiff"), c) < 0) return -1;
  if (spec_parse_process(json_object_get(j, "process"), &c->proc) < 0) return -1;
  json_t *root = json_object_get(j, "root");
  const char *rp = str(root, "path");
  if (!rp) return failx("spec: root.path missing");
  if (rp[0] == '/') c->root_path = xstrdup(rp);
  else {
    c->root_path = xcalloc(strlen(bundle) + strlen(rp) + 2, 1);
    sprintf(c->root_path, "%s/%s", bundle, rp);
  }
  c->root_readonly = json_is_true(json_object_get(root, "readonly"));
  c->hostname = str(j, "hostname");
  json_t *mounts = json_object_get(j, "mounts"), *m;
  size_t i;
  c->mounts = xcalloc(json_array_size(mounts), sizeof *c->mounts);
  json_array_foreach(mounts, i, m) if (parse_mount(m, i, &c->mounts[c->nmounts++]) < 0) return -1;
  json_t *lnx = json_object_get(j, "linux");
  json_t *ns;
  json_array_foreach(json_object_get(lnx, "namespaces"), i, ns) {
    const char *type = str(ns, "type");
    int k;
    for (k = 0; k < NS_COUNT; k++)
      if (type && !strcmp(NAMESPACES[k].type, type)) break;
    if (k == NS_COUNT) return failx("spec: unknown namespace type %s", type ? type : "(none)");
    c->ns[k].enabled = true;
    c->ns[k].path = str(ns, "path");
  }
  if (parse_idmaps(json_object_get(lnx, "uidMappings"), "linux.uidMappings", &c->uidmap, &c->nuidmap) < 0 ||
      parse_idmaps(json_object_get(lnx, "gidMappings"), "linux.gidMappings", &c->gidmap, &c->ngidmap) < 0)
    return -1;
  if (c->ns[NS_USER].enabled && !c->ns[NS_USER].path && (!c->nuidmap || !c->ngidmap))
    return failx("spec: a new user namespace needs linux.uidMappings and linux.gidMappings");
  if (c->network && (!c->ns[NS_NET].enabled || c->ns[NS_NET].path))
    return failx("spec: skiff.network needs a network namespace of the container's own (linux.namespaces: network, no path)");
  if (path_list(json_object_get(lnx, "maskedPaths"), "linux.maskedPaths", &c->masked, &c->nmasked) < 0 ||
      path_list(json_object_get(lnx, "readonlyPaths"), "linux.readonlyPaths", &c->readonly, &c->nreadonly) < 0)
    return -1;
  json_t *sysctl = json_object_get(lnx, "sysctl"), *v;
  const char *key;
  c->sysctls = xcalloc(json_object_size(sysctl), sizeof *c->sysctls);
  json_object_foreach(sysctl, key, v) {
    if (!json_is_string(v)) return failx("spec: linux.sysctl.%s must be a string", key);
    if (strstr(key, "..") || key[0] == '/' || key[0] == '.') return failx("spec: invalid sysctl %s", key);
    c->sysctls[c->nsysctls++] = (struct sysctl){key, json_string_value(v)};
  }
  json_t *devs = json_object_get(lnx, "devices"), *d;
  c->devices = xcalloc(json_array_size(devs) + 1, sizeof *c->devices);
  json_array_foreach(devs, i, d) {
    struct device *e = &c->devices[c->ndevices++];
    const char *path = str(d, "path"), *type = str(d, "type");
    unsigned long long maj = 0, min = 0, mode = 0666, uid = 0, gid = 0;
    if (!path || path[0] != '/' || strstr(path, "..")) return failx("spec: linux.devices[%zu].path must be an absolute path", i);
    if (!type || (strcmp(type, "c") && strcmp(type, "b"))) return failx("spec: linux.devices[%zu].type must be c or b", i);
    if (uint_field(d, "major", "linux.devices[]", 0xfffff, &maj) < 0 || uint_field(d, "minor", "linux.devices[]", 0xfffff, &min) < 0 ||
        (json_object_get(d, "fileMode") && uint_field(d, "fileMode", "linux.devices[]", 07777, &mode) < 0) ||
        (json_object_get(d, "uid") && uint_field(d, "uid", "linux.devices[]", UINT32_MAX - 1, &uid) < 0) ||
        (json_object_get(d, "gid") && uint_field(d, "gid", "linux.devices[]", UINT32_MAX - 1, &gid) < 0))
      return -1;
    *e = (struct device){path, type[0] == 'c' ? S_IFCHR : S_IFBLK, (unsigned)maj, (unsigned)min, (mode_t)mode, (uid_t)uid, (gid_t)gid};
  }
  if (parse_dev_rules(json_object_get(json_object_get(lnx, "resources"), "devices"), c) < 0) return -1;
  json_t *sc = json_object_get(lnx, "seccomp");
  if (json_is_object(sc)) c->proc.seccomp = sc;
  return 0;
}

static void free_process(struct process *p) {
  free(p->groups);
  free(p->argv);
  free(p->envp);
  free(p->rlimits);
}

void spec_free_container(struct container *c) {
  free_process(&c->proc);
  for (size_t i = 0; i < c->nmounts; i++) free(c->mounts[i].data);
  free(c->mounts);
  free(c->bundle);
  free(c->root_path);
  free(c->uidmap);
  free(c->gidmap);
  free(c->masked);
  free(c->readonly);
  free(c->sysctls);
  free(c->overlay.lower);
  free(c->remove);
  free(c->cgroups);
  free(c->cgroup_writes);
  free(c->devices);
  free(c->dev_rules);
  if (c->network) net_plan_free(c->network);
  free(c->network);
  json_decref(c->json);
  memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s) { return s && *s ? xstrdup(s) : NULL; }

static int ms_field(json_t *o, const char *key, long long def, long long *out) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return *out = def, 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0) return failx("spec: skiff.monitor: %s must be a non-negative integer", key);
  *out = json_integer_value(v);
  return 0;
}

/* skiff.monitor.restart: {policy, maxRetries} */
static int parse_restart(json_t *r, struct monitor_config *m) {
  const char *policy = str(r, "policy");
  long long v = 0;
  enum restart_policy p;
  if (!policy || !*policy || !strcmp(policy, "no")) p = RESTART_NO;
  else if (!strcmp(policy, "on-failure")) p = RESTART_ON_FAILURE;
  else if (!strcmp(policy, "always")) p = RESTART_ALWAYS;
  else if (!strcmp(policy, "unless-stopped")) p = RESTART_UNLESS_STOPPED;
  else return failx("spec: skiff.monitor.restart.policy: unknown policy %s", policy);
  if (ms_field(r, "maxRetries", 0, &v) < 0) return -1;
  m->restart = p;
  m->max_retries = (int)v;
  return 0;
}

/* `update --restart` rewrites the spec: the monitor asks it again after each exit (-1: kept as it was). */
int monitor_reload_restart(struct monitor_config *m) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/config.json", m->bundle) >= (int)sizeof path) return failx("bundle path too long");
  cleanup_json json_t *j = json_load_file(path, 0, NULL);
  if (!j) return failx("read %s", path);
  return parse_restart(json_object_get(json_object_get(json_object_get(j, "skiff"), "monitor"), "restart"), m);
}

/* The json-file log a foreground run writes as the monitor would (skiff.monitor.logFile; *path NULL: none). */
int spec_log_target(const struct container *c, const char **path, long long *max_size, int *max_file) {
  *path = NULL;
  json_t *j = c->monitor;
  if (!json_is_object(j) || !str(j, "logFile")) return 0;
  long long v = 0;
  if (ms_field(j, "logMaxSize", 0, max_size) < 0 || ms_field(j, "logMaxFile", 1, &v) < 0) return -1;
  *max_file = v < 1 ? 1 : v > 1000 ? 1000 : (int)v;
  *path = str(j, "logFile");
  return 0;
}

int monitor_config_load(const struct container *c, struct monitor_config *m) {
  memset(m, 0, sizeof *m);
  json_t *j = c->monitor;
  if (!json_is_object(j)) return failx("spec: skiff.monitor is missing: a detached container needs it");
  m->bundle = xstrdup(c->bundle);
  m->log_file = dup_or_null(str(j, "logFile"));
  m->attach_socket = dup_or_null(str(j, "attachSocket"));
  m->stop_file = dup_or_null(str(j, "stopFile"));
  m->state_file = dup_or_null(str(j, "stateFile"));
  m->winsize_file = dup_or_null(str(j, "winsizeFile"));
  m->exit_file = dup_or_null(c->exit_file);
  m->pid_file = dup_or_null(c->pid_file);
  m->open_stdin = json_is_true(json_object_get(j, "openStdin"));
  m->terminal = c->proc.terminal;
  long long v = 0;
  if (ms_field(j, "logMaxSize", 0, &m->log_max_size) < 0 || ms_field(j, "logMaxFile", 1, &v) < 0) return -1;
  m->log_max_file = v < 1 ? 1 : v > 1000 ? 1000 : (int)v;
  if (parse_restart(json_object_get(j, "restart"), m) < 0) return -1;
  m->remove = xcalloc(c->nremove + 1, sizeof *m->remove);
  for (size_t i = 0; i < c->nremove; i++) m->remove[m->nremove++] = xstrdup(c->remove[i]);
  m->trash_dir = dup_or_null(c->trash_dir);
  m->names = (struct name_link){dup_or_null(c->names.dir), dup_or_null(c->names.lock), dup_or_null(c->names.record),
                                dup_or_null(c->names.id)};
  m->events = c->events ? json_deep_copy(c->events) : NULL;
  m->cgroups = xcalloc(c->ncgroups + 1, sizeof *m->cgroups);
  for (size_t i = 0; i < c->ncgroups; i++) m->cgroups[m->ncgroups++] = xstrdup(c->cgroups[i]);
  json_t *h = json_object_get(j, "health");
  if (json_is_object(h)) {
    m->has_health = true;
    m->health_process = dup_or_null(str(h, "process"));
    m->health_file = dup_or_null(str(h, "file"));
    if (!m->health_process || !m->health_file) return failx("spec: skiff.monitor.health needs process and file");
    if (ms_field(h, "intervalMs", 30000, &m->interval_ms) < 0 || ms_field(h, "timeoutMs", 30000, &m->timeout_ms) < 0 ||
        ms_field(h, "startPeriodMs", 0, &m->start_period_ms) < 0 || ms_field(h, "retries", 3, &v) < 0)
      return -1;
    m->retries = v < 1 ? 1 : (int)v;
    if (m->interval_ms < 1) m->interval_ms = 30000;
    if (m->timeout_ms < 1) m->timeout_ms = 30000;
  }
  if (c->network) { /* a reference of its own to the plan's JSON: it outlives the spec */
    m->network = xcalloc(1, sizeof *m->network);
    if (net_plan_parse(c->network->json, m->network) < 0) return -1;
  }
  return 0;
}

int spec_load_process(const char *file, struct process *p, json_t **owner) {
  json_error_t jerr;
  json_object_seed((size_t)getpid());
  *owner = json_load_file(file, 0, &jerr);
  if (!*owner) {
    if (jerr.line < 0) return failx("read %s: %s", file, jerr.text);
    return failx("parse %s: %s (line %d)", file, jerr.text, jerr.line);
  }
  return spec_parse_process(*owner, p);
}
