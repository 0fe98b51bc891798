/*
 * `skiff-shim run BUNDLE`: create the container described by BUNDLE/config.json, run it in
 * the foreground (the CLI exec'd us: stdio, signals and the exit code are ours), record the
 * exit and clean up. container_start() is the start sequence alone: the detached monitor
 * (monitor.c) calls it for the first start and for every restart.
 *
 *   shim                                   child (clone with the new namespaces; pid 1)
 *   ────                                   ─────
 *   parse + validate spec, seccomp cache
 *   step_prepare: join namespaces given by path
 *   step_cgroups_prepare: mkdir, limits, device policy (v1 rules / v2 BPF): before the child exists
 *   (block forwarded signals: the caller)
 *   step_clone (clone3 into the v2 group) ▶ pdeathsig; no user namespace of its own: moves itself
 *                                          into its v1 groups (`tasks`, see cgroup.c)
 *   step_pasta: a rootless container's pasta spawned (first: its route is the longest wait)
 *   step_idmaps_start: newuidmap and newgidmap spawned (next: the child waits for them)
 *   step_pasta_watch: a netlink socket on the child's routes (waited on in step_network)
 *   step_idmaps: the helpers waited for,
 *     MSG_MAPPED ─────────────────────────▶ (a new user namespace: waits for it) become root there
 *                                          (ids that change (keep-id): only after GO, and all below);
 *   step_cgroups: the moves left (a new     rootfs_prepare: overlay rootfs, the spec's mounts up to
 *     user namespace: by pid; no clone3)    its first cgroup mount (proc, /dev, devpts, mqueue, shm,
 *   step_network (skiff.network): veth      sysfs, the /sys/fs/cgroup tmpfs), loopback up;
 *     pair into the child's netns, address  in all its cgroups by now (clone3 and its own moves; not
 *     and routes inside, bridge, firewall   when the shim moves it by pid): enter_rootfs, before GO:
 *     table, DNS entry, host ports held     unshare cgroup ns, rootfs_enter (the cgroup mounts and
 *     (or pasta's namespace configured)     the rest, /dev nodes, pivot_root), finish_rootfs EARLY
 *     → network status file                 (read-only and masked paths over no sysctl, hostname)
 *   step_go: GO ─────────────────────────▶ (else enter_rootfs now); finish_rootfs LATE: sysctls (the
 *                                          network's namespace configured first), the read-only and
 *                                          masked paths over them (/proc/sys), the read-only root
 *   compile seccomp if not cached; BPF ──▶ (received when needed) terminal, user, caps, seccomp
 *   ◀────────────────── PTY / ERROR / EOF  execve (the channel closes on exec)
 *   step_pidfile
 *   relay + forward + wait (supervise)
 *   remove cgroups, release host ports / pasta, exit file; detached children: network teardown,
 *   --rm removal (inside the user namespace)
 *
 * A child that fails while the shim works sends its line (ERROR) and exits; the step of the shim that
 * then fails (its pid or namespaces gone) reports the child's line (start_end). With
 * SKIFF_TRACE_STARTUP=1 the phases are marked (trace.c): loaded, cloned, mapped, mounted (the child's
 * rootfs_prepare), entered (its enter_rootfs), cgroups, network, go, exec.
 *
 * Why each step of the child is where it is (what must precede it):
 * - the cgroup namespace: after the child is in all its cgroups (its root is the container's group,
 *   not the shim's), so before GO only when clone3 and its own moves placed it; the cgroup mounts
 *   after it (they are mounted in that namespace);
 * - everything after becoming root in a new user namespace whose ids change (keep-id): after GO (the
 *   shim's helpers, as the user, must have opened its namespaces);
 * - sysctls: after GO (a network namespace's keys may name the interfaces the shim makes there, and
 *   the user's values win over the network's), and the read-only/masked paths over them after them;
 * - the rest of the filesystem (mounts, /dev, pivot_root, other read-only and masked paths, the
 *   hostname) needs nothing of the shim's and is made while the shim sets the network up;
 * - user, capabilities, no_new_privs and seccomp (last) only after GO, in exec_process: the shim's
 *   helpers open the child's namespaces until then (/proc/PID/ns: a changed user or dropped
 *   capabilities could deny them), and the filter may arrive late (compiled meanwhile).
 * Each step records one failure line and returns -1; start_end() then undoes what the steps made
 * (the child killed and reaped, its cgroups, its network), so a failed start leaves nothing.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "net.h"
#include "shim.h"

/* One start: what its steps made, for start_end() to undo when a later step fails. */
struct start {
  struct container *c;
  const struct start_io *io;
  struct net_held *net;
  struct started *out;
  struct filter_job filter;
  struct idmap_job maps; /* the id maps' helpers, while they run */
  int sock;          /* the channel to the child */
  int pidns;         /* the shim's PID namespace for children, while another's is joined (-1: none) */
  int flags;         /* clone flags */
  bool late_cgroupns;
  pid_t child;
  bool cgroups;      /* the child's cgroups exist */
  size_t v2_index;   /* which of them is the cgroup v2 group (SIZE_MAX: none) */
  int into;          /* that group, open: the child is cloned into it (CLONE_INTO_CGROUP; -1: moved later) */
  bool self_placed;  /* the child moves itself into the v1 groups (it has no user namespace of its own) */
  bool net_started;  /* this start set the network up */
  bool net_ports;    /* ... and reserved the host ports (a restart keeps those of the first start) */
  bool ok;
};

/* The cgroup namespace (its root: the cgroups the child is in by now), the mounts from the first
   cgroup mount on, /dev's nodes, pivot_root, the read-only and masked paths over no sysctl, the
   hostname. */
static void enter_rootfs(const struct start *st, bool userns, struct rootfs *root, int sock) {
  if (st->late_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    fail("create the container's cgroup namespace");
    child_die(sock);
  }
  if (rootfs_enter(st->c, userns, root) < 0 || finish_rootfs(st->c, FINISH_EARLY) < 0) child_die(sock);
  trace_mark(TR_ENTERED);
}

/* The child works while the shim works: once its ids are mapped (a new user namespace: MSG_MAPPED)
   it builds what of its filesystem needs neither its cgroups nor its network; the rest too (from the
   cgroup namespace on) when it is in all its cgroups already; then it waits for MSG_GO. The cgroup
   namespace is made when the child is in its own cgroups: its root is then the container's cgroup
   (as runc and crun do), not the shim's; the cgroup mounts follow. Without a user namespace of its
   own it moves itself into its v1 groups first (cgroup_move). */
static void __attribute__((noreturn)) container_child(struct start *st, int sock) {
  const struct container *c = st->c;
  const struct start_io *io = st->io;
  struct filter_job *f = &st->filter;
  trace_mark(TR_CLONED); /* the child's first step (it may run before the parent's clone returns) */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
    fail("set the parent-death signal");
    child_die(sock);
  }
  if (io) {
    const int from[3] = {io->in, io->out, io->err};
    for (int fd = 0; fd < 3; fd++)
      if (from[fd] >= 0 && dup2(from[fd], fd) < 0) {
        fail("dup2 the container's stdio");
        child_die(sock);
      }
  }
  if (st->self_placed) {
    for (size_t i = 0; i < c->ncgroups; i++)
      if (i != st->v2_index && cgroup_move(c->cgroups[i], 0) < 0) child_die(sock);
    trace_mark(TR_CGROUPS);
  }
  /* EOF here: the shim died before the id maps were written */
  if ((st->flags & CLONE_NEWUSER) && chan_wait(sock, MSG_MAPPED, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
  bool userns = c->ns[NS_USER].enabled;
  bool become_root = userns && !c->ns[NS_USER].path;
  /* Becoming root of the user namespace changes the child's host ids when the maps put the user's
     own id elsewhere (--userns keep-id): the shim's helpers (pasta, as the user) could then no longer
     open its namespaces, so that child builds its rootfs after GO, as a whole */
  bool early = !become_root || (getuid() == 0 && getgid() == 0);
  /* EOF here: the shim failed (it reports why) */
  if (!early && chan_wait(sock, MSG_GO, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
  if (become_root && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
    fail("become root in the user namespace");
    child_die(sock);
  }
  umask(022);
  struct rootfs root;
  if (rootfs_prepare(c, userns, &root) < 0) child_die(sock);
  trace_mark(TR_MOUNTED);
  /* in all its groups already (clone3 put it in the v2 group, it moved itself into the v1 ones): the
     rest of its filesystem waits for nothing of the shim's, so it is made before GO, in parallel */
  bool placed = true;
  for (size_t i = 0; i < c->ncgroups; i++)
    if (i == st->v2_index ? st->into < 0 : !st->self_placed) placed = false;
  bool entered = early && placed;
  if (entered) enter_rootfs(st, userns, &root, sock);
  if (early && chan_wait(sock, MSG_GO, NULL, 0, NULL) < 0) _exit(EXIT_SHIM);
  if (!entered) enter_rootfs(st, userns, &root, sock);
  if (finish_rootfs(c, FINISH_LATE) < 0) child_die(sock);
  struct exec_ctx x = {.sock = sock,
                       .console = true,
                       .bpf = f->sc ? &f->bpf : NULL,
                       .bpf_pending = f->pending,
                       .set_rlimits_oom = true};
  exec_process((struct process *)&c->proc, &x);
}

static void start_end(struct start *st) {
  int e = errno;
  if (!st->ok) {
    char saved[1536];
    /* the child fails while the shim works: its reason is the cause of a step's failure (its pid or
       namespaces gone), so it is the one to report */
    chan_take_child_failure(st->sock);
    snprintf(saved, sizeof saved, "%s", failure());
    idmaps_finish(&st->maps); /* helpers still running: reaped (their verdict no longer matters) */
    if (st->child > 0) {
      kill(st->child, SIGKILL);
      while (waitpid(st->child, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (st->cgroups) cgroup_remove(st->c->cgroups, st->c->ncgroups);
    if (st->net_started) {
      if (st->net_ports) net_release(st->net);
      else net_stop(st->net);
      if (net_teardown(st->c->network) < 0) print_failure();
    }
    close_fd(&st->out->master);
    failx("%s", saved); /* the step's (or the child's) failure is the one to report */
  }
  close_fd(&st->sock);
  close_fd(&st->into);
  close_fd(&st->pidns);
  filter_free(&st->filter);
  errno = e;
}

static int step_prepare(struct start *st) {
  if (filter_prepare(&st->filter, st->c->proc.seccomp, st->c->seccomp_cache) < 0) return -1;
  st->pidns = ns_pid_saved(st->c);
  if (st->c->ns[NS_PID].enabled && st->c->ns[NS_PID].path && st->pidns < 0) return fail("open /proc/self/ns/pid_for_children");
  return ns_join_parent(st->c);
}

static int step_clone(struct start *st) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair");
  st->sock = sv[0];
  cleanup_close int theirs = sv[1];
  st->flags = ns_clone_flags(st->c);
  st->late_cgroupns = (st->flags & CLONE_NEWCGROUP) && st->c->ncgroups;
  if (st->late_cgroupns) st->flags &= ~CLONE_NEWCGROUP;
  pid_t child = -1;
  if (st->into >= 0) {
    struct clone_args a = {.flags = (uint64_t)(unsigned)st->flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                           .cgroup = (uint64_t)st->into};
    child = (pid_t)syscall(SYS_clone3, &a, sizeof a);
    if (child < 0 && errno != ENOSYS && errno != E2BIG)
      return fail("create the container's namespaces in cgroup %s", st->c->cgroups[st->v2_index]);
    if (child < 0) close_fd(&st->into); /* a kernel before 5.7: moved by its pid (step_cgroups) */
  }
  if (st->into < 0) child = (pid_t)syscall(SYS_clone, (unsigned long)st->flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) return fail("create the container's namespaces");
  if (child == 0) {
    close_fd(&st->sock);
    container_child(st, theirs);
  }
  st->child = child;
  /* the network helpers (pasta, aardvark-dns) and --rm's remover are not the container's processes */
  return ns_pid_restore(st->c, &st->pidns);
}

/* The id maps' helpers (newuidmap, newgidmap: setuid execs, ~4 ms together) are spawned right
   after pasta, before pasta's watch, and waited for in step_idmaps: the child waits for its maps,
   pasta's route is waited for last (step_network); each spawn returns only once its helper has
   exec'd (~0.3 ms), so the order of the two longest waits decides when each begins. */
static int step_idmaps_start(struct start *st) {
  if (!(st->flags & CLONE_NEWUSER)) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)st->child);
  /* kept open: --rm removes the files from inside this namespace after the container is gone
     (also after a failed start: the caller owns it) */
  if ((st->out->userns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return fail("open %s", path);
  if (!st->c->idmap_helpers) return 0;
  return idmaps_start(&st->maps, st->child, st->c->uidmap, st->c->nuidmap, st->c->gidmap, st->c->ngidmap);
}

static int step_idmaps(struct start *st) {
  if (!(st->flags & CLONE_NEWUSER)) return 0;
  const struct container *c = st->c;
  if (c->idmap_helpers ? idmaps_finish(&st->maps) < 0 : write_idmaps(st->child, c->uidmap, c->nuidmap, c->gidmap, c->ngidmap, false) < 0)
    return -1;
  trace_mark(TR_MAPPED);
  chan_send(st->sock, MSG_MAPPED, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
  return 0;
}

/* A rootless container's pasta is spawned as soon as the child exists: its start (~13 ms, most of it
   page faults of pasta's own tables) then overlaps the id maps, the cgroup moves and the child's root
   file system; step_network waits until pasta has bound the host ports and configured the namespace
   (net_watch_pasta: its default route appears), not for the rest of its start (its TCP/UDP tables),
   which goes on while the container starts: what the container sends meanwhile waits in the tap's
   queue, a connection to a published port in the listening socket's backlog. (pasta joins a user
   namespace whose maps are not written yet; a keep-id child becomes root only after GO, so pasta has
   opened its namespaces by then.) */
static int step_pasta(struct start *st) {
  if (!st->c->network || !st->c->network->has_pasta) return 0;
  if (net_spawn_pasta(st->c->network, st->child, st->net) < 0) return -1;
  st->net_started = true; /* a failure from here on stops it (start_end) */
  return 0;
}

static int step_pasta_watch(struct start *st) {
  return st->c->network && st->c->network->has_pasta ? net_watch_pasta(st->child, st->net) : 0;
}

/* The container's groups, made before its init exists (limits, device policy): see cgroup.c. */
static int step_cgroups_prepare(struct start *st) {
  st->cgroups = st->c->ncgroups > 0;
  if (cgroup_prepare(st->c) < 0) return -1;
  if (!st->cgroups) return 0;
  st->into = cgroup_v2_fd(st->c, &st->v2_index);
  if (st->into == -1) return -1;
  st->into = st->into < 0 ? -1 : st->into;
  st->self_placed = !st->c->ns[NS_USER].enabled;
  return 0;
}

/* What the child does not do and clone3 did not: the init moved by its pid. */
static int step_cgroups(struct start *st) {
  for (size_t i = 0; i < st->c->ncgroups; i++) {
    if (i == st->v2_index ? st->into >= 0 : st->self_placed) continue;
    if (cgroup_move(st->c->cgroups[i], st->child) < 0) return -1;
  }
  if (st->cgroups && !st->self_placed) trace_mark(TR_CGROUPS); /* else the child marks it */
  return 0;
}

/*
 * The network step: skiff.network (the plan src/network made) set up against the child's network
 * namespace while the child waits for GO, so the container's command finds its interfaces
 * configured. The caller's net_held keeps the host ports (and pasta) for the container's life;
 * the status (interfaces with MACs, the host ports bound) goes to skiff.networkStatusFile.
 */
static int step_network(struct start *st) {
  struct container *c = st->c;
  if (!c->network) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)st->child);
  cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail("open %s", path);
  bool held = st->net->nft_fd >= 0;
  if (net_start(c->network, ns, st->child, st->net) < 0) return -1;
  st->net_started = true;
  st->net_ports = !held && st->net->nft_fd >= 0;
  trace_mark(TR_NETWORK);
  net_trace(st->net);
  if (!c->network_status) return 0;
  cleanup_free char *status = net_status(c->network, st->net, ns);
  if (!status) return failx("write %s: out of memory", c->network_status);
  return write_atomic(c->network_status, status);
}

static int step_go(struct start *st) {
  chan_send(st->sock, MSG_GO, 0, NULL, 0, -1); /* a dead child has left its reason in the channel */
  trace_mark(TR_GO);
  if (filter_deliver(&st->filter, st->sock) < 0 || await_start(st->sock, &st->out->master) < 0) return -1;
  trace_mark(TR_EXEC);
  return 0;
}

static int step_pidfile(struct start *st) {
  if (!st->c->pid_file) return 0;
  char buf[24];
  snprintf(buf, sizeof buf, "%d", (int)st->child);
  return write_atomic(st->c->pid_file, buf);
}

int container_start(struct container *c, const struct start_io *io, struct net_held *net, struct started *s) {
  *s = (struct started){.pid = -1, .master = -1, .userns_fd = -1};
  if (c->network && !net) return failx("internal error: a network plan without a holder");
  __attribute__((cleanup(start_end))) struct start st = {.c = c, .io = io, .net = net, .out = s, .sock = -1, .child = -1,
                                                         .pidns = -1, .filter = {.cachefd = -1}, .into = -1, .v2_index = SIZE_MAX,
                                                         .maps = {.hu = {.err = -1}, .hg = {.err = -1}}};
  trace_mark(TR_LOADED);
  if (step_prepare(&st) < 0 || step_cgroups_prepare(&st) < 0 || step_clone(&st) < 0 || step_pasta(&st) < 0 ||
      step_idmaps_start(&st) < 0 || step_pasta_watch(&st) < 0 || step_idmaps(&st) < 0 || step_cgroups(&st) < 0 ||
      step_network(&st) < 0 || step_go(&st) < 0 || step_pidfile(&st) < 0)
    return -1;
  s->pid = st.child;
  st.ok = true;
  return 0;
}

/* `run` after the spec is loaded: -1 when the container did not start (failure recorded; *userns_fd
   may hold its user namespace), else the container's exit code. `attach`: the streams the user sees
   (ATTACH_*, `run -a`); another stream's output goes to the log only, an unattached stdin is /dev/null. */
static int run(struct container *c, int *userns_fd, unsigned attach) {
  if (c->die_with_parent) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return fail("set the parent-death signal");
    if (getppid() != parent) return failx("the process that started the shim is gone");
  }
  if (block_signals() < 0) return -1;
  cleanup_held struct net_held net;
  net_held_init(&net);
  /* Docker logs every run: the output passes through us to the json-file log as well (a terminal's
     through its master, which supervise reads anyway; else two pipes, also when a stream is not
     shown). Build steps have no log. */
  struct relay relay = {.out = -1, .err = -1, .log = NULL, .attach = attach};
  const char *log_path;
  long long log_max_size = 0;
  int log_max_file = 1;
  if (spec_log_target(c, &log_path, &log_max_size, &log_max_file) < 0) return -1;
  if (log_path && !(relay.log = log_open(log_path, log_max_size, log_max_file))) return -1;
  cleanup_close int out_w = -1;
  cleanup_close int err_w = -1;
  cleanup_close int null_in = -1;
  bool all_shown = (attach & (ATTACH_OUT | ATTACH_ERR)) == (ATTACH_OUT | ATTACH_ERR);
  if ((relay.log || !all_shown) && !c->proc.terminal) {
    int o[2], e[2];
    if (pipe2(o, O_CLOEXEC) < 0) return fail("pipe for the container's stdout");
    relay.out = o[0], out_w = o[1];
    if (pipe2(e, O_CLOEXEC) < 0) return close_fd(&relay.out), fail("pipe for the container's stderr");
    relay.err = e[0], err_w = e[1];
  }
  if (!(attach & ATTACH_IN) && !c->proc.terminal && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    return close_fd(&relay.out), close_fd(&relay.err), fail("open /dev/null");
  struct start_io io = {null_in, out_w, err_w};
  struct started s;
  int r = container_start(c, relay.out >= 0 || null_in >= 0 ? &io : NULL, &net, &s);
  *userns_fd = s.userns_fd;
  close_fd(&out_w); /* the container's copies are the only writers: their end is the output's end */
  close_fd(&err_w);
  close_fd(&null_in);
  if (r < 0) return close_fd(&relay.out), close_fd(&relay.err), -1;
  trace_print(STDERR_FILENO);
  event_append(c->events, "start", -1);
  int mnt_fd = -1;
  if (c->nremove && c->trash_dir) {
    /* --rm: nobody mounts this container's overlay again, so its teardown may outlive the shim */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)s.pid);
    mnt_fd = open(path, O_RDONLY | O_CLOEXEC); /* best effort: without it the exit waits for the teardown */
  }
  int sig = 0;
  int code = supervise(s.pid, s.master, &sig, true, &relay);
  bool oom = cgroup_oom_killed(c->cgroups, c->ncgroups);
  /* before exit.json: a reader that sees the exit sees the cgroups gone and the host ports free */
  cgroup_remove(c->cgroups, c->ncgroups);
  net_release(&net);
  record_exit(c->exit_file, c->events, code, sig, NULL, oom);
  if (c->network) net_teardown_detached(c->network, &net);
  remove_paths((char *const *)c->remove, c->nremove, c->trash_dir, *userns_fd, mnt_fd, &c->names);
  if (c->nremove) event_append(c->events, "destroy", -1);
  return code;
}

/* One exit path: whatever failed before the container ran, the exit file says so and --rm removes
   what was made. A run that shows neither output ends with 0 once the container has (Docker's
   `run -a stdin`: the CLI printed the id instead; exit.json keeps the code). */
int cmd_run(const char *bundle, unsigned attach) {
  static struct container c;
  clear_nonblock_stdio();
  cleanup_close int userns_fd = -1;
  int code = spec_load_container(bundle, &c) < 0 ? -1 : run(&c, &userns_fd, attach);
  if (code >= 0) return attach & (ATTACH_OUT | ATTACH_ERR) ? code : 0;
  code = print_failure();
  record_exit(c.exit_file, c.events, code, 0, failure(), false);
  remove_paths((char *const *)c.remove, c.nremove, c.trash_dir, userns_fd, -1, &c.names);
  if (c.nremove) event_append(c.events, "destroy", -1);
  return code;
}
