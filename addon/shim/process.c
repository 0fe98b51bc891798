/*
 * The last steps of a container process, shared by `run` (pid 1) and `exec`: terminal,
 * rlimits, working directory, user and groups, capabilities, no_new_privs, seccomp (last),
 * signals back to defaults, PATH lookup and execve.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "shim.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Never above the hard limit we have: without CAP_SYS_RESOURCE that fails; clamp and go on. */
static int set_rlimits(const struct process *p) {
  for (size_t i = 0; i < p->nrlimits; i++) {
    struct rlimit want = p->rlimits[i].limit, cur;
    int res = p->rlimits[i].resource;
    if (setrlimit(res, &want) == 0) continue;
    if (errno != EPERM || getrlimit(res, &cur) < 0) return fail("setrlimit %d", res);
    if (want.rlim_max > cur.rlim_max) want.rlim_max = cur.rlim_max;
    if (want.rlim_cur > want.rlim_max) want.rlim_cur = want.rlim_max;
    if (setrlimit(res, &want) < 0) return fail("setrlimit %d", res);
  }
  return 0;
}

static int set_oom_score_adj(const struct process *p) {
  if (!p->has_oom) return 0;
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
  cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("open /proc/self/oom_score_adj");
  /* lowering it needs CAP_SYS_RESOURCE, which a rootless container lacks: keep the current value */
  if (write_all(fd, buf, (size_t)n) < 0 && errno != EACCES && errno != EPERM) return fail("set oom_score_adj");
  return 0;
}

static int switch_user(const struct process *p, int sock) {
  if (setgroups(p->ngroups, p->groups) < 0) {
    /* a user namespace with setgroups denied (single mapping) keeps its groups */
    if (errno != EPERM || p->ngroups) return fail("setgroups");
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail("keep capabilities across setuid");
  if (setresgid(p->gid, p->gid, p->gid) < 0) return fail("setgid %u", (unsigned)p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0) return fail("setuid %u", (unsigned)p->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return fail("reset keepcaps");
  /* a credential change clears the parent-death signal: arm it again, then make sure the shim
     did not die in between (the signal would never come) */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return fail("set the parent-death signal");
  if (chan_peer_gone(sock)) _exit(EXIT_SHIM);
  return 0;
}

static const char *env_get(char **envp, const char *key) {
  size_t kl = strlen(key);
  for (; *envp; envp++)
    if (!strncmp(*envp, key, kl) && (*envp)[kl] == '=') return *envp + kl + 1;
  return NULL;
}

/* Go's exec.LookPath, as Docker reports it. */
static int lookup(const char *cmd, char **envp, char *out, size_t len) {
  if (strchr(cmd, '/')) {
    struct stat st;
    if (stat(cmd, &st) < 0) {
      set_failure_code(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE);
      return errno == ENOENT ? failx("exec: \"%s\": stat %s: no such file or directory", cmd, cmd)
                             : fail("exec: \"%s\": stat %s", cmd, cmd);
    }
    snprintf(out, len, "%s", cmd);
    return 0;
  }
  const char *path = env_get(envp, "PATH");
  if (!path) path = DEFAULT_PATH;
  for (const char *d = path;; d++) {
    const char *end = strchrnul(d, ':');
    int n = snprintf(out, len, "%.*s/%s", (int)(end - d), end == d ? "." : d, cmd);
    if (end == d) n = snprintf(out, len, "./%s", cmd);
    struct stat st;
    if (n > 0 && (size_t)n < len && stat(out, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) return 0;
    if (!*end) break;
    d = end;
  }
  set_failure_code(EXIT_NOT_FOUND);
  return failx("exec: \"%s\": executable file not found in $PATH", cmd);
}

static int load_filter(struct exec_ctx *x) {
  if (!x->bpf_pending) return 0;
  /* the parent compiled it while we were building the rootfs */
  static char buf[64 * 1024];
  size_t len;
  if (chan_wait(x->sock, MSG_BPF, buf, sizeof buf, &len) < 0) return -1;
  if (len < sizeof(unsigned) || (len - sizeof(unsigned)) % 8) return failx("seccomp: bad filter from the shim");
  memcpy(&x->bpf->flags, buf, sizeof(unsigned));
  x->bpf->insns = buf + sizeof(unsigned);
  x->bpf->len = len - sizeof(unsigned);
  return 0;
}

static int prepare(struct process *p, struct exec_ctx *x, char *exe, size_t exelen) {
  if (x->set_rlimits_oom && (set_rlimits(p) < 0 || set_oom_score_adj(p) < 0)) return -1;
  if (p->terminal) {
    if (pty_setup_child(x->sock, x->console, p->uid) < 0) return -1;
  } else if (setsid() < 0) {
    return fail("setsid");
  }
  if (chdir(p->cwd) < 0) return fail("chdir to the working directory %s", p->cwd);
  umask(p->has_umask ? p->umask : 022);
  if (caps_drop_bounding(p) < 0) return -1;
  if (switch_user(p, x->sock) < 0) return -1;
  /* look the command up as the container's user, before seccomp can get in the way */
  if (lookup(p->argv[0], p->envp, exe, exelen) < 0) return -1;
  if (load_filter(x) < 0) return -1;
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0 && errno != ENOSYS) return fail("close_range");
  reset_signals_child();
  /* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter: keep it until then. */
  if (x->bpf && !p->nnp) {
    if (caps_apply(p, true) < 0 || seccomp_load_bpf(x->bpf) < 0 || caps_apply(p, false) < 0) return -1;
    return 0;
  }
  if (caps_apply(p, false) < 0) return -1;
  if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail("set no_new_privs");
  if (x->bpf && seccomp_load_bpf(x->bpf) < 0) return -1;
  return 0;
}

void exec_process(struct process *p, struct exec_ctx *x) {
  char exe[4096];
  if (prepare(p, x, exe, sizeof exe) < 0) child_die(x->sock);
  execve(exe, p->argv, p->envp);
  int e = errno;
  if (e == ENOENT) {
    set_failure_code(EXIT_NOT_FOUND);
    failx("exec %s: no such file or directory", exe);
  } else {
    set_failure_code(EXIT_CANNOT_INVOKE);
    if (e == EACCES) failx("exec: \"%s\": permission denied", p->argv[0]);
    else errno = e, fail("exec: \"%s\"", p->argv[0]);
  }
  child_die(x->sock);
}
