/*
 * skiff-shim: the native half of skiff.
 *   skiff-shim run BUNDLE                         create and run the container described by BUNDLE/config.json
 *   skiff-shim exec PID PROCESS.json              run a process inside the running container whose init is PID
 *   skiff-shim unshare UIDMAP GIDMAP -- CMD...    run CMD as root of a new user namespace (rootless store work)
 * Exit codes follow Docker: the container's own, 125 when the shim fails, 126/127 when the command
 * cannot be invoked / is not found.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

static const struct {
  const char *type, *proc;
  int flag;
} NAMESPACES[] = {{"user", "user", CLONE_NEWUSER},   {"ipc", "ipc", CLONE_NEWIPC},     {"uts", "uts", CLONE_NEWUTS},
                  {"network", "net", CLONE_NEWNET},  {"pid", "pid", CLONE_NEWPID},     {"cgroup", "cgroup", CLONE_NEWCGROUP},
                  {"mount", "mnt", CLONE_NEWNS}};
#define NNS (sizeof NAMESPACES / sizeof NAMESPACES[0])

static void rfc3339_now(char *out, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static int write_atomic(const char *path, const char *data) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("create %s", tmp);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) {
    fail_errno("write %s", tmp);
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    unlink(tmp);
    return fail_errno("rename %s", path);
  }
  return 0;
}

static void write_exit_file(json_t *ext, int code, int sig, const char *error) {
  const char *file = json_string_value(json_object_get(ext, "exitFile"));
  if (!file) return;
  char ts[64];
  rfc3339_now(ts, sizeof ts);
  json_t *o = json_pack("{s:i, s:o, s:s, s:s}", "exitCode", code, "signal", sig ? json_integer(sig) : json_null(),
                        "finishedAt", ts, "error", error ? error : "");
  char *s = json_dumps(o, JSON_COMPACT);
  if (s) write_atomic(file, s);
  free(s);
  json_decref(o);
}

static void remove_paths(json_t *ext, int usernsfd) {
  json_t *list = json_object_get(ext, "remove");
  if (!json_array_size(list)) return;
  pid_t p = fork();
  if (p < 0) {
    fail_errno("fork for cleanup");
    return;
  }
  if (p == 0) {
    /* files owned by subordinate ids can only be removed from inside the user namespace */
    if (usernsfd >= 0 && setns(usernsfd, CLONE_NEWUSER) < 0) fail_errno("join user namespace for cleanup");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) rm_rf(json_string_value(d));
    _exit(0);
  }
  int st;
  while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
}

/* Parent after the child was started: get the pty, learn whether exec succeeded, supervise. */
static int finish_start(pid_t child, int errfd, int consock, bool terminal, json_t *ext, int usernsfd) {
  int master = -1;
  if (terminal) master = receive_fd(consock);
  char msg[1300];
  ssize_t n, off = 0;
  while ((n = read(errfd, msg + off, sizeof msg - 1 - off)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) off += n;
  msg[off] = 0;
  close(errfd);
  if (off > 0) {
    int code = atoi(msg);
    const char *text = strchr(msg, ' ') ? strchr(msg, ' ') + 1 : msg;
    fprintf(stderr, "Error: %s\n", text);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    if (master >= 0) close(master);
    write_exit_file(ext, code ? code : 125, 0, text);
    remove_paths(ext, usernsfd);
    return code ? code : 125;
  }
  const char *pidfile = json_string_value(json_object_get(ext, "pidFile"));
  if (pidfile) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d", child);
    write_atomic(pidfile, buf);
  }
  int code = supervise(child, master);
  write_exit_file(ext, code, code > 128 ? code - 128 : 0, NULL);
  remove_paths(ext, usernsfd);
  return code;
}

static int cmd_run(const char *bundle) {
  char path[4096];
  snprintf(path, sizeof path, "%s/config.json", bundle);
  json_error_t jerr;
  json_t *spec = json_load_file(path, 0, &jerr);
  if (!spec) return fail("read %s: %s (line %d)", path, jerr.text, jerr.line), 125;
  json_t *linux_ = json_object_get(spec, "linux");
  json_t *ext = json_object_get(spec, "skiff");
  json_t *process = json_object_get(spec, "process");
  int flags = 0;
  bool userns = false;
  size_t i;
  json_t *ns;
  json_array_foreach(json_object_get(linux_, "namespaces"), i, ns) {
    const char *t = json_string_value(json_object_get(ns, "type"));
    if (json_object_get(ns, "path")) continue; /* joining existing namespaces is not supported by run */
    for (size_t k = 0; t && k < NNS; k++)
      if (!strcmp(NAMESPACES[k].type, t)) flags |= NAMESPACES[k].flag;
  }
  userns = flags & CLONE_NEWUSER;
  bool terminal = json_is_true(json_object_get(process, "terminal"));
  int errp[2], syncp[2], sock[2] = {-1, -1};
  if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(syncp, O_CLOEXEC) < 0) return fail_errno("pipe"), 125;
  if (terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) return fail_errno("socketpair"), 125;
  pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (child < 0) return fail_errno("create container namespaces"), 125;
  if (child == 0) {
    close(errp[0]);
    close(syncp[1]);
    if (sock[0] >= 0) close(sock[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char go;
    if (read(syncp[0], &go, 1) != 1) _exit(125); /* the shim died before we could start */
    close(syncp[0]);
    if (userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
      child_fail(errp[1], 125, "become root in the user namespace: %s", strerror(errno));
    setup_rootfs(spec, userns, errp[1]);
    apply_process_and_exec(process, json_object_get(linux_, "seccomp"), errp[1], sock[1]);
  }
  close(errp[1]);
  close(syncp[0]);
  if (sock[1] >= 0) close(sock[1]);
  int usernsfd = -1;
  if (userns) {
    snprintf(path, sizeof path, "/proc/%d/ns/user", child);
    usernsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (write_id_maps(child, json_object_get(linux_, "uidMappings"), json_object_get(linux_, "gidMappings"),
                      json_is_true(json_object_get(ext, "idmapHelpers"))) < 0) {
      kill(child, SIGKILL);
      waitpid(child, NULL, 0);
      write_exit_file(ext, 125, 0, "writing user namespace id maps failed");
      remove_paths(ext, usernsfd);
      return 125;
    }
  }
  if (write(syncp[1], "1", 1) != 1) return fail_errno("start container"), 125;
  close(syncp[1]);
  return finish_start(child, errp[0], sock[0], terminal, ext, usernsfd);
}

static int cmd_exec(pid_t pid, const char *file) {
  json_error_t jerr;
  json_t *process = json_load_file(file, 0, &jerr);
  if (!process) return fail("read %s: %s", file, jerr.text), 125;
  int fds[NNS];
  char path[64], self[64];
  for (size_t k = 0; k < NNS; k++) {
    struct stat a, b;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, NAMESPACES[k].proc);
    snprintf(self, sizeof self, "/proc/self/ns/%s", NAMESPACES[k].proc);
    fds[k] = -1;
    if (stat(path, &a) < 0) {
      if (errno == ENOENT && k == 0) return fail("container process %d is gone", pid), 125;
      continue;
    }
    if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    fds[k] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[k] < 0) return fail_errno("open %s", path), 125;
  }
  for (size_t k = 0; k < NNS; k++) /* user first (NAMESPACES[0]), mount last */
    if (fds[k] >= 0 && setns(fds[k], NAMESPACES[k].flag) < 0)
      return fail_errno("join the container's %s namespace", NAMESPACES[k].type), 125;
  bool terminal = json_is_true(json_object_get(process, "terminal"));
  int errp[2], sock[2] = {-1, -1};
  if (pipe2(errp, O_CLOEXEC) < 0) return fail_errno("pipe"), 125;
  if (terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) return fail_errno("socketpair"), 125;
  pid_t child = fork();
  if (child < 0) return fail_errno("fork"), 125;
  if (child == 0) {
    close(errp[0]);
    if (sock[0] >= 0) close(sock[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (fds[0] >= 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
      child_fail(errp[1], 125, "become root in the user namespace: %s", strerror(errno));
    if (chdir("/") < 0) child_fail(errp[1], 125, "chdir /: %s", strerror(errno));
    apply_process_and_exec(process, json_object_get(process, "seccomp"), errp[1], sock[1]);
  }
  close(errp[1]);
  if (sock[1] >= 0) close(sock[1]);
  unlink(file);
  return finish_start(child, errp[0], sock[0], terminal, json_object(), -1);
}

static int cmd_unshare(const char *uidmap, const char *gidmap, char **cmd) {
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) return fail_errno("pipe"), 125;
  pid_t child = fork();
  if (child < 0) return fail_errno("fork"), 125;
  if (child == 0) {
    close(ready[0]);
    close(go[1]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
      fail_errno("create a user namespace");
      _exit(125);
    }
    if (write(ready[1], "r", 1) != 1) _exit(125);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(125);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      fail_errno("become root in the user namespace");
      _exit(125);
    }
    setenv("_SKIFF_IN_USERNS", "1", 1);
    execvp(cmd[0], cmd);
    fail_errno("exec %s", cmd[0]);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(ready[1]);
  close(go[0]);
  char c;
  if (read(ready[0], &c, 1) != 1) {
    int st;
    waitpid(child, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 125;
  }
  if (write_id_maps_text(child, uidmap, gidmap) < 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 125;
  }
  if (write(go[1], "g", 1) != 1) return fail_errno("start"), 125;
  return supervise(child, -1);
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "run")) return cmd_run(argv[2]);
  if (argc >= 4 && !strcmp(argv[1], "exec")) return cmd_exec((pid_t)atoi(argv[2]), argv[3]);
  if (argc >= 6 && !strcmp(argv[1], "unshare") && !strcmp(argv[4], "--")) return cmd_unshare(argv[2], argv[3], argv + 5);
  fprintf(stderr,
          "Usage: skiff-shim run BUNDLE | exec PID PROCESS.json | unshare UIDMAP GIDMAP -- CMD [ARG...]\n"
          "skiff's native helper; it is started by the skiff CLI.\n");
  return 125;
}
