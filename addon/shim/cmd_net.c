/*
 * `skiff-shim net setup [--hold] PLAN.json TARGET` sets a network plan (net.h) up for TARGET (a pid,
 * or a network namespace file: /proc/PID/ns/net, /run/netns/NAME) and prints its status (JSON) on
 * stdout. Published ports and pasta live as long as the process that set them up: with --hold it
 * stays until its stdin closes or it gets SIGTERM/SIGINT, then releases them (the DNAT table goes
 * with its socket, the reserved ports with theirs, pasta with its parent).
 * `skiff-shim net teardown PLAN.json` removes what setup left outside the namespace (idempotent).
 * The CLI uses these for `network connect/disconnect` and the crash sweep; `run` does the same
 * setup inside the shim's container start (the network step), with the shim as the holder.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

/* The network namespace of TARGET (a pid, or a namespace file). */
static int open_target(const char *target, pid_t *pid) {
  *pid = 0;
  char path[64];
  const char *file = target;
  bool digits = *target != 0;
  for (const char *c = target; *c; c++) digits = digits && isdigit((unsigned char)*c);
  if (digits) {
    *pid = (pid_t)atoi(target);
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)*pid);
    file = path;
  }
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open the network namespace %s", file);
  return fd;
}

/* Until stdin closes or SIGTERM/SIGINT/SIGHUP. */
static void hold(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  struct pollfd p[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
  for (;;) {
    int n = poll(p, sfd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p[1].revents) break;
    if (p[0].revents) {
      char buf[256];
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0 && !(r < 0 && errno == EINTR)) break;
    }
  }
}

static int setup(bool keep, const char *file, const char *target) {
  cleanup_plan struct net_plan p = {0};
  if (net_plan_load(file, &p) < 0) return -1;
  if ((p.nports || p.has_pasta) && !keep) return failx("published ports and pasta need --hold (they live as long as this process)");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  /* a SIGTERM during setup waits until it is undone or held */
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return fail("block signals");
  pid_t pid;
  cleanup_close int ns = open_target(target, &pid);
  if (ns < 0) return -1;
  if (p.has_pasta && !pid) return failx("pasta needs a pid as target");
  cleanup_held struct net_held h;
  if (net_setup(&p, ns, pid, &h) < 0) return -1;
  cleanup_free char *status = net_status(&p, &h, ns);
  if (!status) return failx("out of memory");
  if (printf("%s\n", status) < 0 || fflush(stdout) != 0) return fail("write the network status");
  if (keep) hold();
  return 0;
}

int cmd_net(int argc, char **argv) {
  int r;
  if (argc >= 3 && !strcmp(argv[0], "setup") && argc == 3 + !strcmp(argv[1], "--hold")) {
    bool keep = !strcmp(argv[1], "--hold");
    r = setup(keep, argv[1 + keep], argv[2 + keep]);
  } else if (argc == 2 && !strcmp(argv[0], "teardown")) {
    cleanup_plan struct net_plan p = {0};
    r = net_plan_load(argv[1], &p) < 0 ? -1 : net_teardown(&p);
  } else {
    return -1; /* usage */
  }
  return r < 0 ? print_failure() : 0;
}
