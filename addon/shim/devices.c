/*
 * The device cgroup policy (linux.resources.devices) on the container's cgroups. Which device a
 * container may open is decided here, never by which nodes exist in its rootfs: an image layer (or
 * a process with CAP_MKNOD) can make any node, and only this policy keeps it from the host's device.
 *
 *   cgroup v1: the `devices` hierarchy's devices.deny / devices.allow, one rule per write, in order
 *              ("a" for a rule of type a: the kernel resets the list and the default behaviour).
 *   cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the rules, loaded with
 *              bpf(BPF_PROG_LOAD) and attached (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI: programs of
 *              ancestors still run, and every program must allow) to the container's v2 group.
 *
 * Both apply on a hybrid host (the kernel asks the v2 program first, then the v1 controller). The
 * rules' meaning is the OCI runtime spec's as runc and crun implement it: the last rule that matches
 * a request decides, a request matches a rule only when every access it asks for is in the rule's
 * access, and nothing matching denies.
 * Rootless (a user namespace): not applied, as crun does. Loading a device program needs CAP_BPF or
 * CAP_SYS_ADMIN of the initial namespace, and the kernel already refuses to open device nodes on a
 * filesystem mounted in a user namespace (its layers cannot even hold any: mknod is refused there).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "shim.h"

bool shim_rootless(void) {
  if (geteuid() != 0) return true;
  /* the initial user namespace maps all of 0..2^32-2 onto itself */
  char buf[128];
  cleanup_close int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n <= 0) return false;
  buf[n] = 0;
  unsigned long inside, outside, count;
  return !(sscanf(buf, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0 && count == 4294967295UL);
}

/* ---- cgroup v1 ---- */

static void rule_text(const struct dev_rule *r, char *out, size_t len) {
  if (r->type == 'a') {
    snprintf(out, len, "a");
    return;
  }
  char maj[24] = "*", min[24] = "*", acc[4];
  size_t a = 0;
  if (r->major >= 0) snprintf(maj, sizeof maj, "%lld", r->major);
  if (r->minor >= 0) snprintf(min, sizeof min, "%lld", r->minor);
  if (r->access & DEV_ACC_READ) acc[a++] = 'r';
  if (r->access & DEV_ACC_WRITE) acc[a++] = 'w';
  if (r->access & DEV_ACC_MKNOD) acc[a++] = 'm';
  acc[a] = 0;
  snprintf(out, len, "%c %s:%s %s", r->type, maj, min, acc);
}

static int apply_v1(int dirfd, const char *dir, const struct dev_rule *rules, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char line[64];
    rule_text(&rules[i], line, sizeof line);
    const char *file = rules[i].allow ? "devices.allow" : "devices.deny";
    if (write_file_at(dirfd, file, line, strlen(line)) < 0) return fail("write \"%s\" to %s/%s", line, dir, file);
  }
  return 0;
}

/* ---- cgroup v2: the program ---- */

struct prog {
  struct bpf_insn *insns;
  size_t n, cap;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 64;
    p->insns = realloc(p->insns, p->cap * sizeof *p->insns);
    if (!p->insns) abort();
  }
  p->insns[p->n++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* r2 = device type, r3 = access, r4 = major, r5 = minor (r1: the bpf_cgroup_dev_ctx) */
enum { R0, R1, R2, R3, R4, R5 };
#define ALL_ACCESS (DEV_ACC_MKNOD | DEV_ACC_READ | DEV_ACC_WRITE)

/* One rule: checks that jump past it when the request does not match, then return its verdict.
   Returns false when the rule matches every request (the rules after it can never be reached,
   and the verifier refuses unreachable instructions). */
static bool emit_rule(struct prog *p, const struct dev_rule *r) {
  bool type = r->type != 'a', access = (r->access & ALL_ACCESS) != ALL_ACCESS, major = r->major >= 0, minor = r->minor >= 0;
  int checks = type + 3 * access + major + minor;
  size_t end = p->n + (size_t)checks + 2; /* index of the first instruction after this rule */
#define SKIP ((int16_t)(end - p->n - 1))
  if (type) emit(p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, SKIP, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (access) {
    /* every access asked for must be in the rule's: (r3 & access) == r3 */
    emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R3, 0, 0);
    emit(p, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, (int32_t)r->access);
    emit(p, BPF_JMP | BPF_JNE | BPF_X, R1, R3, SKIP, 0);
  }
  if (major) emit(p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, SKIP, (int32_t)r->major);
  if (minor) emit(p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, SKIP, (int32_t)r->minor);
#undef SKIP
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return checks > 0;
}

static void build_program(struct prog *p, const struct dev_rule *rules, size_t n) {
  const int16_t type_off = offsetof(struct bpf_cgroup_dev_ctx, access_type);
  /* access_type is (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_* */
  emit(p, BPF_LDX | BPF_MEM | BPF_W, R2, R1, type_off, 0);
  emit(p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, R3, R1, type_off, 0);
  emit(p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, R4, R1, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  emit(p, BPF_LDX | BPF_MEM | BPF_W, R5, R1, (int16_t)offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
  /* the last rule that matches decides: test them from the last one */
  for (size_t i = n; i-- > 0;)
    if (!emit_rule(p, &rules[i])) return;
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0); /* nothing matched: deny */
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

static int prog_load(const struct prog *p, char *log, size_t loglen) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)p->insns;
  a.insn_cnt = (uint32_t)p->n;
  a.license = (uint64_t)(uintptr_t)"Apache-2.0"; /* no helpers are called: any licence will do */
  if (log) {
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = (uint32_t)loglen;
    a.log_level = 1;
  }
  return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

/* The verifier's last non-empty line (why it refused the program). */
static const char *last_line(char *log) {
  size_t len = strlen(log);
  while (len && (log[len - 1] == '\n' || log[len - 1] == ' ')) log[--len] = 0;
  char *nl = strrchr(log, '\n');
  return nl ? nl + 1 : log;
}

static int apply_v2(int dirfd, const char *dir, const struct dev_rule *rules, size_t n) {
  struct prog p = {0};
  build_program(&p, rules, n);
  cleanup_free struct bpf_insn *insns = p.insns;
  /* the attachment holds the program; it goes with the cgroup */
  cleanup_close int prog = prog_load(&p, NULL, 0);
  if (prog < 0) {
    int e = errno;
    char log[8192] = "";
    /* again with the verifier's log, for its reason (EACCES/EINVAL: it refused the program) */
    if ((e == EACCES || e == EINVAL) && prog_load(&p, log, sizeof log) < 0 && log[0])
      return failx("load the device cgroup program for %s: %s (the verifier: %s)", dir, strerror(e), last_line(log));
    errno = e;
    return fail("load the device cgroup program for %s", dir);
  }
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)dirfd;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  return sys_bpf(BPF_PROG_ATTACH, &a) < 0 ? fail("attach the device cgroup program to %s", dir) : 0;
}

int devices_apply(int dirfd, const char *dir, const struct dev_rule *rules, size_t n) {
  struct statfs sfs;
  if (fstatfs(dirfd, &sfs) < 0) return fail("statfs %s", dir);
  if (sfs.f_type == CGROUP2_SUPER_MAGIC) return apply_v2(dirfd, dir, rules, n) < 0 ? -1 : 1;
  if (faccessat(dirfd, "devices.allow", F_OK, 0) < 0) {
    if (errno == ENOENT) return 0; /* a hierarchy of other controllers */
    return fail("look for %s/devices.allow", dir);
  }
  return apply_v1(dirfd, dir, rules, n) < 0 ? -1 : 1;
}
