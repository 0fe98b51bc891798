/*
 * Names on user-defined networks through aardvark-dns (Podman's DNS server), in its config format:
 * one file per network in the config dir, first line the addresses it listens on (the gateway),
 * then one line per container: "<id> <ipv4s> <ipv6s> <names,comma-separated> [<dns servers>]".
 * One aardvark-dns serves a config dir (its pid in aardvark.pid); it rereads the dir on SIGHUP and
 * exits when no network is left in it. We stop it ourselves when the last file goes (no daemon
 * while no container needs it). Callers hold the networks lock.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

extern char **environ;

#define PID_FILE "aardvark.pid"

static char *read_text(const char *path) {
  cleanup_file FILE *f = fopen(path, "re");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = xcalloc(1, cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (len + 1 == cap) {
      cap *= 2;
      char *b = realloc(buf, cap);
      if (!b) {
        fputs("Error: out of memory\n", stderr);
        exit(EXIT_SHIM);
      }
      buf = b;
    }
  }
  buf[len] = 0;
  return buf;
}

/* The network file without the lines of `id`; adds `line` when given. Removes the file when no
   container is left in it. */
static int rewrite(const char *dir, const char *network, const char *gateway, const char *id, const char *line) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, network);
  cleanup_free char *old = read_text(path);
  if (!old && errno != ENOENT) return fail("read %s", path);
  size_t cap = (old ? strlen(old) : 0) + (line ? strlen(line) : 0) + strlen(gateway) + 4;
  cleanup_free char *out = xcalloc(1, cap);
  size_t idlen = strlen(id);
  int entries = 0;
  bool first = true;
  if (old) {
    for (char *s = old, *nl; *s; s = nl ? nl + 1 : s + strlen(s)) {
      nl = strchr(s, '\n');
      size_t len = nl ? (size_t)(nl - s) : strlen(s);
      if (!len) continue;
      bool mine = !first && len > idlen && !strncmp(s, id, idlen) && s[idlen] == ' ';
      if (!mine) {
        strncat(out, s, len);
        strcat(out, "\n");
        if (!first) entries++;
      }
      first = false;
    }
  } else {
    strcat(out, gateway);
    strcat(out, "\n");
  }
  if (line) {
    strcat(out, line);
    entries++;
  }
  if (!entries) return unlink(path) < 0 && errno != ENOENT ? fail("remove %s", path) : 0;
  /* staged beside the dir, not in it: aardvark-dns reads every file of the dir as a network */
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp-%s", dir, network);
  if (write_atomic(tmp, out) < 0) return -1;
  if (rename(tmp, path) < 0) return fail("rename %s", path), unlink(tmp), -1;
  return 0;
}

/* The running aardvark-dns of dir, or 0. A pid counts only when its command line names the dir. */
static pid_t running(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/" PID_FILE, dir);
  pid_t pid;
  {
    cleanup_free char *text = read_text(path);
    if (!text) return 0;
    pid = (pid_t)atoi(text);
  }
  if (pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char cmd[4096];
  ssize_t n = read(fd, cmd, sizeof cmd - 1);
  if (n <= 0) return 0;
  cmd[n] = 0;
  bool is_aardvark = false, names_dir = false;
  for (char *a = cmd; a < cmd + n; a += strlen(a) + 1) {
    if (strstr(a, "aardvark-dns")) is_aardvark = true;
    if (!strcmp(a, dir)) names_dir = true;
  }
  return is_aardvark && names_dir ? pid : 0;
}

/* The inode of the socket bound to UDP addr:53 in this network namespace (aardvark's listener), 0 if none. */
static unsigned long udp53_inode(const unsigned char addr[4]) {
  cleanup_file FILE *f = fopen("/proc/net/udp", "re");
  if (!f) return 0;
  char want[16], line[512];
  /* the kernel prints the address as the hex of its 32-bit value in host order, then the port */
  unsigned v = (unsigned)addr[0] | (unsigned)addr[1] << 8 | (unsigned)addr[2] << 16 | (unsigned)addr[3] << 24;
  snprintf(want, sizeof want, "%08X:0035", v);
  unsigned long inode = 0;
  while (!inode && fgets(line, sizeof line, f))
    if (strstr(line, want) && sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &inode) != 1) inode = 0;
  return inode;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int start(const char *path, const char *dir) {
  char *argv[] = {(char *)path, "--config", (char *)dir, "-p", "53", "run", NULL};
  posix_spawnattr_t attr;
  sigset_t none, dfl;
  sigemptyset(&none);
  sigfillset(&dfl);
  int r = posix_spawnattr_init(&attr);
  /* none of our blocked or ignored signals (the shim blocks the ones it forwards) */
  if (r == 0) r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  if (r == 0) r = posix_spawnattr_setsigmask(&attr, &none);
  if (r == 0) r = posix_spawnattr_setsigdefault(&attr, &dfl);
  pid_t pid;
  posix_spawn_file_actions_t fa;
  if (r == 0) r = posix_spawn_file_actions_init(&fa);
  /* its first process writes to stdout/stderr before it forks the server: not into the caller's pipes */
  if (r == 0) r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (r == 0) r = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (r == 0) r = posix_spawn(&pid, path, &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (r != 0) {
    errno = r;
    return fail("start %s", path);
  }
  int st;
  /* the first process returns once the server has written its pid file */
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return fail("wait for %s", path);
  if (!WIFEXITED(st) || WEXITSTATUS(st)) return failx("%s failed to start (exit status %d)", path, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}

/* The listener on the gateway appears after the pid file (aardvark-dns 1.4 reports ready before it
   binds), and a SIGHUP makes it close every listener and bind new ones (a query sent between the two
   is lost): wait for a listener other than `old` (the one before the SIGHUP; 0 for a start), up to 5 s,
   so the container starts with its DNS server answering. */
static int await_listener(const char *network, const unsigned char gw[4], unsigned long old) {
  for (int i = 0; i < 500; i++) {
    unsigned long inode = udp53_inode(gw);
    if (inode && inode != old) return 0;
    sleep_ms(i < 50 ? 1 : 10);
  }
  return failx("aardvark-dns does not answer on %u.%u.%u.%u:53 for network %s", gw[0], gw[1], gw[2], gw[3], network);
}

/* SIGHUP: aardvark-dns rereads its config dir; then, when it still serves f's network, wait for its
   new listener on the gateway. */
static int reload(pid_t pid, const struct net_iface *f, bool serves) {
  unsigned long old = udp53_inode(f->net.gateway.a);
  if (kill(pid, SIGHUP) < 0) return errno == ESRCH ? 0 : fail("signal aardvark-dns (pid %d)", (int)pid);
  return serves && old ? await_listener(f->net.name, f->net.gateway.a, old) : 0;
}

int dns_add(const char *aardvark, const struct net_iface *f, const char *id, const char *servers) {
  const char *dir = f->net.dns_dir;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) return fail("create %s", dir);
  char gw[64], ip[64], line[4096];
  net_addr_format(&f->net.gateway, gw, sizeof gw);
  net_addr_format(&f->addr, ip, sizeof ip);
  int n = snprintf(line, sizeof line, "%s %s  %s%s%s\n", id, ip, f->dns_names, servers ? " " : "", servers ? servers : "");
  if (n < 0 || (size_t)n >= sizeof line) return failx("DNS names of container %s are too long", id);
  if (rewrite(dir, f->net.name, gw, id, line) < 0) return -1;
  pid_t pid = running(dir);
  int r;
  if (pid > 0) {
    r = reload(pid, f, true);
  } else {
    if (start(aardvark, dir) < 0) return rewrite(dir, f->net.name, gw, id, NULL), -1;
    r = await_listener(f->net.name, f->net.gateway.a, 0);
  }
  if (r < 0) {
    char saved[1536];
    snprintf(saved, sizeof saved, "%s", failure());
    dns_remove(f, id);
    return failx("%s", saved);
  }
  return 0;
}

static bool dir_has_networks(const char *dir) {
  cleanup_dir DIR *d = opendir(dir);
  if (!d) return false;
  bool any = false;
  struct dirent *e;
  while (!any && (e = readdir(d)))
    any = e->d_name[0] != '.' && strcmp(e->d_name, PID_FILE);
  return any;
}

int dns_remove(const struct net_iface *f, const char *id) {
  const char *dir = f->net.dns_dir;
  char gw[64];
  net_addr_format(&f->net.gateway, gw, sizeof gw);
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, f->net.name);
  if (access(path, F_OK) < 0 && errno == ENOENT) {
    /* nothing of ours; still stop a server that serves nothing (a crash between the two) */
  } else if (rewrite(dir, f->net.name, gw, id, NULL) < 0) {
    return -1;
  }
  pid_t pid = running(dir);
  if (!pid) return 0;
  if (dir_has_networks(dir)) return reload(pid, f, access(path, F_OK) == 0);
  /* the last network went: stop it and wait, so that a start under the same lock finds it gone */
  if (kill(pid, SIGTERM) < 0 && errno != ESRCH) return fail("stop aardvark-dns (pid %d)", (int)pid);
  for (int i = 0; i < 200 && running(dir) == pid && kill(pid, 0) == 0; i++) sleep_ms(5);
  snprintf(path, sizeof path, "%s/" PID_FILE, dir);
  if (unlink(path) < 0 && errno != ENOENT) return fail("remove %s", path);
  return 0;
}
