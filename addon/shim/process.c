/*
 * The last steps before exec, shared by `run` and `exec`: terminal, user and groups, capabilities,
 * no_new_privs, seccomp (loaded last), environment, working directory, PATH lookup, execve.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include "shim.h"

static const char *CAPS[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
#define NCAPS (int)(sizeof CAPS / sizeof CAPS[0])

static unsigned long long cap_mask(json_t *list) {
  unsigned long long m = 0;
  size_t i;
  json_t *c;
  json_array_foreach(list, i, c) {
    const char *s = json_string_value(c);
    for (int b = 0; s && b < NCAPS; b++)
      if (!strcmp(CAPS[b], s)) m |= 1ULL << b;
  }
  return m;
}

static int last_cap(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  int n = NCAPS - 1;
  if (f) {
    if (fscanf(f, "%d", &n) != 1) n = NCAPS - 1;
    fclose(f);
  }
  return n;
}

/* Needs CAP_SETPCAP: done before the switch to the container user. */
static void drop_bounding(json_t *caps, int errfd) {
  unsigned long long bnd = cap_mask(json_object_get(caps, "bounding"));
  int last = last_cap();
  for (int b = 0; b <= last; b++)
    if (!(bnd & (1ULL << b)) && prctl(PR_CAPBSET_DROP, b, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail(errfd, 125, "drop capability %d from the bounding set: %s", b, strerror(errno));
}

static void apply_caps(json_t *caps, int errfd) {
  unsigned long long eff = cap_mask(json_object_get(caps, "effective"));
  unsigned long long prm = cap_mask(json_object_get(caps, "permitted"));
  unsigned long long inh = cap_mask(json_object_get(caps, "inheritable"));
  unsigned long long amb = cap_mask(json_object_get(caps, "ambient"));
  int last = last_cap();
  /* never ask for more than we hold (e.g. --privileged where the host lacks CAP_SYS_RESOURCE) */
  struct __user_cap_header_struct cur_hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct cur[2];
  if (syscall(SYS_capget, &cur_hdr, cur) == 0) {
    unsigned long long held = (unsigned long long)cur[0].permitted | ((unsigned long long)cur[1].permitted << 32);
    eff &= held;
    prm &= held;
    inh &= held;
    amb &= held;
  }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {
      {(unsigned)eff, (unsigned)prm, (unsigned)inh}, {(unsigned)(eff >> 32), (unsigned)(prm >> 32), (unsigned)(inh >> 32)}};
  if (syscall(SYS_capset, &hdr, data) < 0) child_fail(errfd, 125, "capset: %s", strerror(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    child_fail(errfd, 125, "clear ambient capabilities: %s", strerror(errno));
  for (int b = 0; b <= last; b++)
    if ((amb & (1ULL << b)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, b, 0, 0) < 0)
      child_fail(errfd, 125, "raise ambient capability %s: %s", CAPS[b], strerror(errno));
}

static uint32_t scmp_action(const char *a, json_t *errno_ret, int dflt) {
  int e = errno_ret && json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : dflt;
  if (!strcmp(a, "SCMP_ACT_ALLOW")) return SCMP_ACT_ALLOW;
  if (!strcmp(a, "SCMP_ACT_ERRNO")) return SCMP_ACT_ERRNO(e);
  if (!strcmp(a, "SCMP_ACT_KILL") || !strcmp(a, "SCMP_ACT_KILL_THREAD")) return SCMP_ACT_KILL;
  if (!strcmp(a, "SCMP_ACT_KILL_PROCESS")) return SCMP_ACT_KILL_PROCESS;
  if (!strcmp(a, "SCMP_ACT_TRAP")) return SCMP_ACT_TRAP;
  if (!strcmp(a, "SCMP_ACT_LOG")) return SCMP_ACT_LOG;
  if (!strcmp(a, "SCMP_ACT_TRACE")) return SCMP_ACT_TRACE(e);
  return SCMP_ACT_ERRNO(EPERM);
}

static enum scmp_compare scmp_op(const char *op) {
  static const struct { const char *n; enum scmp_compare c; } OPS[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (!strcmp(OPS[i].n, op)) return OPS[i].c;
  return SCMP_CMP_EQ;
}

static scmp_filter_ctx build_seccomp(json_t *sc, int errfd) {
  const char *dflt = json_string_value(json_object_get(sc, "defaultAction"));
  scmp_filter_ctx ctx = seccomp_init(scmp_action(dflt ? dflt : "SCMP_ACT_ALLOW", json_object_get(sc, "defaultErrnoRet"), EPERM));
  if (!ctx) child_fail(errfd, 125, "seccomp_init failed");
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  size_t i, j, k;
  json_t *a, *rule, *name, *arg;
  json_array_foreach(json_object_get(sc, "architectures"), i, a) {
    const char *s = json_string_value(a);
    uint32_t arch = 0;
    if (!strcmp(s, "SCMP_ARCH_X86")) arch = SCMP_ARCH_X86;
    else if (!strcmp(s, "SCMP_ARCH_X32")) arch = SCMP_ARCH_X32;
    else if (!strcmp(s, "SCMP_ARCH_X86_64")) arch = SCMP_ARCH_X86_64;
    else if (!strcmp(s, "SCMP_ARCH_AARCH64")) arch = SCMP_ARCH_AARCH64;
    else if (!strcmp(s, "SCMP_ARCH_ARM")) arch = SCMP_ARCH_ARM;
    if (arch && arch != seccomp_arch_native()) {
      int r = seccomp_arch_add(ctx, arch);
      if (r < 0 && r != -EEXIST) child_fail(errfd, 125, "seccomp: add arch %s: %s", s, strerror(-r));
    }
  }
  uint32_t defact = scmp_action(dflt ? dflt : "SCMP_ACT_ALLOW", json_object_get(sc, "defaultErrnoRet"), EPERM);
  json_array_foreach(json_object_get(sc, "syscalls"), i, rule) {
    const char *act = json_string_value(json_object_get(rule, "action"));
    uint32_t action = scmp_action(act ? act : "SCMP_ACT_ERRNO", json_object_get(rule, "errnoRet"), EPERM);
    if (action == defact) continue;
    json_t *args = json_object_get(rule, "args");
    struct scmp_arg_cmp cmps[6];
    unsigned n = 0;
    json_array_foreach(args, k, arg) {
      if (n >= 6) break;
      cmps[n].arg = (unsigned)json_integer_value(json_object_get(arg, "index"));
      cmps[n].op = scmp_op(json_string_value(json_object_get(arg, "op")) ?: "SCMP_CMP_EQ");
      cmps[n].datum_a = (scmp_datum_t)json_integer_value(json_object_get(arg, "value"));
      cmps[n].datum_b = (scmp_datum_t)json_integer_value(json_object_get(arg, "valueTwo"));
      n++;
    }
    json_array_foreach(json_object_get(rule, "names"), j, name) {
      int nr = seccomp_syscall_resolve_name(json_string_value(name));
      if (nr == __NR_SCMP_ERROR) continue; /* unknown on this arch/libseccomp: skipped */
      int r = seccomp_rule_add_array(ctx, action, nr, n, n ? cmps : NULL);
      if (r < 0 && n > 1) {
        /* several comparisons on one argument need one rule each (libseccomp limitation), as runc does */
        r = 0;
        for (unsigned c = 0; c < n; c++) {
          int r2 = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[c]);
          if (r2 < 0 && r2 != -EEXIST) r = r2;
        }
      }
      if (r < 0 && r != -EEXIST) child_fail(errfd, 125, "seccomp rule for %s: %s", json_string_value(name), strerror(-r));
    }
  }
  return ctx;
}

int setup_terminal_child(int sockfd, int errfd) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail(errfd, 125, "open /dev/ptmx: %s", strerror(errno));
  if (grantpt(master) < 0 || unlockpt(master) < 0) child_fail(errfd, 125, "unlock pty: %s", strerror(errno));
  char name[64];
  if (ptsname_r(master, name, sizeof name) != 0) child_fail(errfd, 125, "ptsname: %s", strerror(errno));
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) child_fail(errfd, 125, "open %s: %s", name, strerror(errno));
  struct msghdr msg = {0};
  char cbuf[CMSG_SPACE(sizeof(int))];
  char dummy = 'm';
  struct iovec iov = {&dummy, 1};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(sockfd, &msg, 0) < 0) child_fail(errfd, 125, "send pty to the shim: %s", strerror(errno));
  close(master);
  if (setsid() < 0 && errno != EPERM) child_fail(errfd, 125, "setsid: %s", strerror(errno));
  if (ioctl(slave, TIOCSCTTY, 0) < 0) child_fail(errfd, 125, "set controlling terminal: %s", strerror(errno));
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0) child_fail(errfd, 125, "dup2: %s", strerror(errno));
  if (slave > 2) close(slave);
  return 0;
}

static const char *env_get(json_t *env, const char *key) {
  size_t i, kl = strlen(key);
  json_t *e;
  json_array_foreach(env, i, e) {
    const char *s = json_string_value(e);
    if (s && !strncmp(s, key, kl) && s[kl] == '=') return s + kl + 1;
  }
  return NULL;
}

void apply_process_and_exec(json_t *process, json_t *seccomp, int errfd, int consolefd) {
  if (json_is_true(json_object_get(process, "terminal")) && consolefd >= 0) setup_terminal_child(consolefd, errfd);
  else if (setsid() < 0 && errno != EPERM) child_fail(errfd, 125, "setsid: %s", strerror(errno));
  const char *cwd = json_string_value(json_object_get(process, "cwd"));
  if (cwd && chdir(cwd) < 0) child_fail(errfd, 125, "chdir to working directory %s: %s", cwd, strerror(errno));
  json_t *env = json_object_get(process, "env");
  const char *path = env_get(env, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  json_t *args = json_object_get(process, "args");
  size_t argc = json_array_size(args);
  if (!argc) child_fail(errfd, 125, "no command specified");
  char **argv = calloc(argc + 1, sizeof(char *));
  char **envp = calloc(json_array_size(env) + 1, sizeof(char *));
  if (!argv || !envp) child_fail(errfd, 125, "out of memory");
  json_t *a;
  size_t i;
  json_array_foreach(args, i, a) argv[i] = (char *)json_string_value(a);
  json_array_foreach(env, i, a) envp[i] = (char *)json_string_value(a);
  /* resolve the command before seccomp and capability changes limit what we may look at */
  char exe[4096];
  const char *cmd = argv[0];
  int lookup_errno = ENOENT;
  if (strchr(cmd, '/')) {
    snprintf(exe, sizeof exe, "%s", cmd);
  } else {
    exe[0] = 0;
    char *dirs = strdup(path);
    for (char *d = strtok(dirs, ":"); d; d = strtok(NULL, ":")) {
      char cand[4096];
      snprintf(cand, sizeof cand, "%s/%s", *d ? d : ".", cmd);
      struct stat st;
      if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
        snprintf(exe, sizeof exe, "%s", cand);
        break;
      }
    }
    free(dirs);
    if (!exe[0]) child_fail(errfd, 127, "exec: \"%s\": executable file not found in $PATH", cmd);
  }
  (void)lookup_errno;
  /* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter: load it while we still
     have it (the profile allows the few calls that follow); with no_new_privs load it last. */
  bool nnp = json_is_true(json_object_get(process, "noNewPrivileges"));
  scmp_filter_ctx filter = seccomp && json_is_object(seccomp) ? build_seccomp(seccomp, errfd) : NULL;
  if (filter && !nnp) {
    int r = seccomp_load(filter);
    if (r < 0) child_fail(errfd, 125, "load seccomp filter: %s", strerror(-r));
  }
  json_t *user = json_object_get(process, "user");
  uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
  gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
  json_t *ag = json_object_get(user, "additionalGids");
  gid_t groups[64];
  size_t ng = 0, gi;
  json_t *g;
  json_array_foreach(ag, gi, g) if (ng < 64) groups[ng++] = (gid_t)json_integer_value(g);
  drop_bounding(json_object_get(process, "capabilities"), errfd);
  if (setgroups(ng, groups) < 0 && errno != EPERM) child_fail(errfd, 125, "setgroups: %s", strerror(errno));
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail(errfd, 125, "keep capabilities: %s", strerror(errno));
  if (setresgid(gid, gid, gid) < 0) child_fail(errfd, 125, "setgid %u: %s", gid, strerror(errno));
  if (setresuid(uid, uid, uid) < 0) child_fail(errfd, 125, "setuid %u: %s", uid, strerror(errno));
  /* a credential change clears the parent-death signal: arm it again */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) child_fail(errfd, 125, "pdeathsig: %s", strerror(errno));
  apply_caps(json_object_get(process, "capabilities"), errfd);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(errfd, 125, "no_new_privs: %s", strerror(errno));
  if (filter && nnp) {
    int r = seccomp_load(filter);
    if (r < 0) child_fail(errfd, 125, "load seccomp filter: %s", strerror(-r));
  }
  execve(exe, argv, envp);
  int e = errno;
  if (e == ENOENT) child_fail(errfd, 127, "exec: \"%s\": stat %s: no such file or directory", cmd, exe);
  child_fail(errfd, 126, "exec: \"%s\": %s", cmd, e == EACCES ? "permission denied" : strerror(e));
}
