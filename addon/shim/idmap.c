/* User-namespace id maps: newuidmap/newgidmap for subordinate ranges, direct writes otherwise. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim.h"

static int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("open %s", path);
  ssize_t n = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  errno = e;
  if (n < 0) return fail_errno("write %s", path);
  return 0;
}

static int run_helper(const char *helper, pid_t pid, const char *triples) {
  char *argv[64];
  int argc = 0;
  char pidbuf[32];
  snprintf(pidbuf, sizeof pidbuf, "%d", pid);
  argv[argc++] = (char *)helper;
  argv[argc++] = pidbuf;
  char *copy = strdup(triples);
  if (!copy) return fail_errno("strdup");
  for (char *tok = strtok(copy, ",: "); tok && argc < 62; tok = strtok(NULL, ",: ")) argv[argc++] = tok;
  argv[argc] = NULL;
  pid_t p = fork();
  if (p < 0) {
    free(copy);
    return fail_errno("fork %s", helper);
  }
  if (p == 0) {
    execv(helper, argv);
    fprintf(stderr, "Error: exec %s: %s\n", helper, strerror(errno));
    _exit(127);
  }
  int st;
  while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
  free(copy);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return fail("%s failed for pid %d (check /etc/subuid and /etc/subgid for this user)", helper, pid);
  return 0;
}

/* "c:h:s,c:h:s" → "c h s\n..." */
static void to_proc_format(const char *triples, char *out, size_t len) {
  size_t o = 0;
  for (const char *p = triples; *p && o + 2 < len; p++) out[o++] = *p == ':' ? ' ' : *p == ',' ? '\n' : *p;
  out[o++] = '\n';
  out[o] = 0;
}

static int single_own_mapping(const char *triples, unsigned own) {
  unsigned c, h, s;
  return strchr(triples, ',') == NULL && sscanf(triples, "%u:%u:%u", &c, &h, &s) == 3 && h == own && s == 1;
}

int write_id_maps_text(pid_t pid, const char *uidmap, const char *gidmap) {
  char path[64], buf[512];
  bool direct = getuid() == 0 || (single_own_mapping(uidmap, getuid()) && single_own_mapping(gidmap, getgid()));
  if (!direct) {
    if (run_helper("/usr/bin/newuidmap", pid, uidmap) < 0) return -1;
    return run_helper("/usr/bin/newgidmap", pid, gidmap);
  }
  if (getuid() != 0) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (write_file(path, "deny") < 0) return -1;
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  to_proc_format(uidmap, buf, sizeof buf);
  if (write_file(path, buf) < 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  to_proc_format(gidmap, buf, sizeof buf);
  return write_file(path, buf);
}

static void json_maps(json_t *maps, char *out, size_t len) {
  size_t i;
  json_t *m;
  out[0] = 0;
  json_array_foreach(maps, i, m) {
    size_t o = strlen(out);
    snprintf(out + o, len - o, "%s%lld:%lld:%lld", i ? "," : "", json_integer_value(json_object_get(m, "containerID")),
             json_integer_value(json_object_get(m, "hostID")), json_integer_value(json_object_get(m, "size")));
  }
}

int write_id_maps(pid_t pid, json_t *uidmaps, json_t *gidmaps, bool helpers) {
  char u[512], g[512];
  json_maps(uidmaps, u, sizeof u);
  json_maps(gidmaps, g, sizeof g);
  (void)helpers; /* the choice follows from the maps themselves */
  return write_id_maps_text(pid, u, g);
}
