/*
 * skiff-shim: the native half of skiff (see shim.h for the layout).
 *   skiff-shim run [--attach=LIST] BUNDLE        create and run the container of BUNDLE/config.json; LIST:
 *                                                the streams shown, of stdin,stdout,stderr (default all: run -a)
 *   skiff-shim run --detach [--attach-fd] BUNDLE the same in the background, with this shim as its monitor;
 *                                                --attach-fd: fd 4 is an attach client from the start (run -it)
 *   skiff-shim exec [--detach-keys=HEX] PID PROCESS.json  run a process in the running container whose init
 *                                                is PID; HEX: the detach keys of a terminal (exec -it)
 *   skiff-shim unshare UIDMAP GIDMAP -- CMD...   run CMD as root of a new user namespace (rootless store work)
 *   skiff-shim idcopy UIDMAP GIDMAP SRC DST      copy a layer with its owners mapped (run by unshare: --userns keep-id)
 *   skiff-shim ps [-a] [-q] [--no-trunc] [-l]    `skiff ps`'s default table, fast (bin/skiff sends it here)
 *   skiff-shim net setup [--hold] PLAN PID|NETNS  set a network plan up (net.h); net teardown PLAN undoes it
 *   skiff-shim netns DIR UIDMAP GIDMAP PASTA [ARG...] -- CMD...  run CMD in the rootless network namespace
 * Exit codes follow Docker: the container's own (128+N when killed by signal N), 125 when the
 * shim fails, 126 when the command cannot be invoked, 127 when it is not found.
 */

#include <stdio.h>
#include <string.h>
#include "shim.h"

int cmd_run(const char *bundle, unsigned attach);
int cmd_run_detached(const char *bundle, bool front);
int cmd_exec(const char *pid, const char *file, const char *keyhex);
int cmd_unshare(const char *uidmap, const char *gidmap, char **cmd);
int cmd_ps(int argc, char **argv);
int cmd_idcopy(const char *uidmap, const char *gidmap, const char *src, const char *dst);
int cmd_net(int argc, char **argv);
int cmd_netns(int argc, char **argv);

/* --attach=stdin,stdout,stderr (any of them, comma-separated) → ATTACH_*; -1 for another word */
static int attach_mask(const char *list) {
  unsigned m = 0;
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 5 && !strncmp(p, "stdin", n)) m |= ATTACH_IN;
    else if (n == 6 && !strncmp(p, "stdout", n)) m |= ATTACH_OUT;
    else if (n == 6 && !strncmp(p, "stderr", n)) m |= ATTACH_ERR;
    else return -1;
    p += n + (p[n] == ',');
  }
  return (int)m;
}

static int main_run(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[0], "--detach")) return cmd_run_detached(argv[1], false);
  if (argc == 3 && !strcmp(argv[0], "--detach") && !strcmp(argv[1], "--attach-fd")) return cmd_run_detached(argv[2], true);
  if (argc == 2 && !strncmp(argv[0], "--attach=", 9)) {
    int m = attach_mask(argv[0] + 9);
    return m < 0 ? -1 : cmd_run(argv[1], (unsigned)m);
  }
  return argc == 1 ? cmd_run(argv[0], ATTACH_ALL) : -1;
}
static int main_exec(int argc, char **argv) {
  if (argc == 3 && !strncmp(argv[0], "--detach-keys=", 14)) return cmd_exec(argv[1], argv[2], argv[0] + 14);
  return argc == 2 ? cmd_exec(argv[0], argv[1], NULL) : -1;
}
static int main_unshare(int argc, char **argv) {
  return argc >= 4 && !strcmp(argv[2], "--") ? cmd_unshare(argv[0], argv[1], argv + 3) : -1;
}

static int main_idcopy(int argc, char **argv) {
  return argc == 4 ? cmd_idcopy(argv[0], argv[1], argv[2], argv[3]) : -1;
}

static const struct {
  const char *name, *usage;
  int (*run)(int argc, char **argv); /* -1: wrong arguments */
} COMMANDS[] = {
    {"run", "run [--detach [--attach-fd] | --attach=LIST] BUNDLE", main_run},
    {"exec", "exec [--detach-keys=HEX] PID PROCESS.json", main_exec},
    {"unshare", "unshare UIDMAP GIDMAP -- CMD [ARG...]", main_unshare},
    {"idcopy", "idcopy UIDMAP GIDMAP SRC DST", main_idcopy},
    {"ps", "ps [-a] [-q] [--no-trunc] [-l]", cmd_ps},
    {"net", "net setup [--hold] PLAN.json PID|NETNS_FILE | net teardown PLAN.json", cmd_net},
    {"netns", "netns DIR UIDMAP GIDMAP PASTA [PASTA-ARG...] -- CMD [ARG...]", cmd_netns},
};

static int usage(void) {
  fputs("Usage:", stderr);
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(stderr, "%s skiff-shim %s\n", i ? "      " : "", COMMANDS[i].usage);
  fputs("skiff's native helper; the skiff CLI starts it.\n", stderr);
  return EXIT_SHIM;
}

int main(int argc, char **argv) {
  trace_init();
  if (argc < 2) return usage();
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) {
      int r = COMMANDS[i].run(argc - 2, argv + 2);
      return r < 0 ? usage() : r;
    }
  return usage();
}
