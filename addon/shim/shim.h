/*
 * skiff-shim: everything between fork and exec for a container (GUIDE.md §3, ARCHITECTURE.md).
 *
 * Layout (one concern per file):
 *   main.c        argument dispatch
 *   cmd_run.c     `run BUNDLE`: the container-start sequence (also the monitor's), foreground supervision
 *   finish.c      after the final exit: the exit file, network teardown and --rm removal (detached children)
 *   monitor.c     `run --detach BUNDLE`: double fork, the detached container's monitor, restart policy
 *   logfile.c     Docker's json-file log: lines, escaping, rotation
 *   attach.c      the attach socket server (Docker's multiplexed frames)
 *   health.c      health checks (`exec` of ourselves), Docker's Health object
 *   cmd_exec.c    `exec PID PROCESS.json`: join a running container
 *   cmd_unshare.c `unshare UIDMAP GIDMAP -- CMD...`: rootless store work
 *   cmd_netns.c   `netns DIR ... -- CMD...`: CMD in the rootless network namespace (made on demand)
 *   cmd_ps.c      `ps`: the default `skiff ps` table, natively (the CLI's start-up costs more than podman ps)
 *   spec.c        config.json / process.json → structs (jansson)
 *   namespaces.c  namespace table, joining, id maps, loopback
 *   mounts.c      overlay rootfs, spec mounts, /dev, pivot_root, masked/read-only paths
 *   copyup.c      a volume's first use (copy-up from the image, crash-safe), `:U` chown
 *   security.c    capabilities, no_new_privs, seccomp (compiled to BPF, cached)
 *   process.c     the last steps of the container process: user, rlimits, exec
 *   io.c          pty (container side + host relay), signal forwarding, exit status
 *   channel.c     typed messages between the shim and its child (errors, fds, go, BPF)
 *   cgroup.c      the container's cgroup dirs (skiff.cgroups): create, enter, remove
 *   devices.c     the device cgroup policy (linux.resources.devices): v1 devices.deny/allow, v2 BPF
 *   util.c        error recording, files, rm -rf, time
 *   trace.c       SKIFF_TRACE_STARTUP: the start's phases (skiff-trace-shim)
 *   net.h         the network: netlink, rtnl, nft, the plan, setup/teardown, aardvark-dns, `net`
 *
 * Errors: a failing function records ONE line with fail()/failx() and returns -1; the caller
 * passes -1 up. The child sends the recorded line to the parent over the channel, so the user
 * sees exactly one "Error: ..." line, printed by the parent. Each command has one exit path that
 * prints it (print_failure) and records the exit.
 * Resources are scoped (../common/cleanup.h, as crun's): fds, memory, FILE/DIR, jansson references
 * (cleanup_json), network plans and holdings (net.h) are released when their variable goes out of
 * scope, so an error path is `return fail(...)`; `take_fd`/`take_ptr` hand one on.
 */
#ifndef SKIFF_SHIM_H
#define SKIFF_SHIM_H

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "../common/cleanup.h"

/* jansson's reference, dropped at the end of the scope (cleanup.h) */
#define cleanup_json __attribute__((cleanup(cleanup_jsonp)))
static inline void cleanup_jsonp(json_t **j) {
  int e = errno;
  json_decref(*j);
  errno = e;
}

#define EXIT_SHIM 125        /* skiff (the shim) failed */
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

/* ---- util.c ---- */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* "<msg>: <strerror(errno)>", returns -1 */
int failx(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* "<msg>", returns -1 */
const char *failure(void);                                             /* the recorded line */
int failure_code(void);                                                /* exit code for it (125 unless set) */
void set_failure_code(int code);
int print_failure(void);                                               /* "Error: <line>" on stderr; returns the code */
int write_all(int fd, const void *buf, size_t len);
struct winsize;
int read_winsize(int fd, struct winsize *ws);
extern int winsize_fd;
int write_file_at(int dirfd, const char *path, const char *data, size_t len);
int write_atomic(const char *path, const char *data);
int rm_rf(const char *path);
int utc_seconds(long long sec, char *out, size_t len); /* "YYYY-MM-DDTHH:MM:SS", snprintf's count */
void rfc3339nano(const struct timespec *ts, char *out, size_t len); /* Go's RFC3339Nano (trailing zeros trimmed) */
void rfc3339_now(char *out, size_t len);
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);

/* ---- channel.c ---- */
enum msg_type { MSG_GO = 1, MSG_BPF, MSG_ERROR, MSG_PTY, MSG_MAPPED };
int chan_send(int sock, enum msg_type type, int code, const void *data, size_t len, int passfd);
/* Returns the message length (>= 0), 0 with *type = 0 on EOF, -1 on error. */
ssize_t chan_recv(int sock, enum msg_type *type, int *code, void *buf, size_t cap, int *passfd);
/* Child side: send the recorded failure to the parent and _exit with its code. */
void __attribute__((noreturn)) child_die(int sock);
/* Child side: block until the parent sends a message of `want`; -1 if the parent is gone. */
int chan_wait(int sock, enum msg_type want, void *buf, size_t cap, size_t *len);
bool chan_peer_gone(int sock);
/* Parent side: wait until the child exec'd (EOF: 0) or failed (-1, failure recorded); a pty
   master sent on the way lands in *master. */
int await_start(int sock, int *master);
/* Parent side, after a step failed: a failure the child sent meanwhile (it works while the parent
   does) becomes the recorded one, the cause of the step's (its pid or namespaces gone). */
void chan_take_child_failure(int sock);

/* ---- spec.c ---- */
enum cap_set { CAP_BOUNDING, CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE, CAP_AMBIENT, CAP_NSETS };
enum ns_kind { NS_USER, NS_MNT, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_COUNT };

struct idmap {
  unsigned long container, host, size;
};

struct rlimit_entry {
  int resource;
  struct rlimit limit;
};

struct process {
  bool terminal;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  bool has_umask;
  mode_t umask;
  char **argv;
  char **envp;
  const char *cwd;
  bool has_caps;
  uint64_t caps[CAP_NSETS];
  bool nnp;
  struct rlimit_entry *rlimits;
  size_t nrlimits;
  bool has_oom;
  int oom_score_adj;
  json_t *seccomp; /* LinuxSeccomp object or NULL (exec: process.seccomp; run: linux.seccomp) */
};

struct mount_entry {
  const char *destination, *type, *source;
  unsigned long flags;    /* MS_* for filesystems */
  uint64_t attr_set;      /* MOUNT_ATTR_* applied to binds (and "r*" recursive options) */
  bool attr_recursive;
  unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE (+MS_REC) */
  bool bind, recursive;
  bool volume, copyup, chown; /* skiff-volume (a store volume: its first use clears its copy-up mark), skiff-copyup (and fill it from the image), skiff-chown (`:U`) */
  char *data;             /* the filesystem options that are not flags, comma-separated */
};

struct sysctl {
  const char *key, *value;
};

struct device { /* linux.devices: made in the container's /dev (bound from the host when rootless) */
  const char *path;
  mode_t type; /* S_IFCHR or S_IFBLK */
  unsigned major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

/* linux.resources.devices[]: who may open (or mknod) which device. The last rule that matches a
   request decides; none matching denies. */
#define DEV_ACC_MKNOD 1 /* the kernel's BPF_DEVCG_ACC_* bits */
#define DEV_ACC_READ 2
#define DEV_ACC_WRITE 4
struct dev_rule {
  bool allow;
  char type;           /* 'a' (any), 'b' or 'c' */
  long long major, minor; /* -1: any */
  unsigned access;     /* DEV_ACC_* */
};

struct ns_spec {
  bool enabled;     /* listed in linux.namespaces */
  const char *path; /* join instead of creating */
};

struct overlay {
  const char **lower; /* topmost first */
  size_t nlower;
  const char *upper, *work;
  bool userxattr;
};

/* skiff.nameIndex (--rm): the container's link in the names index, dropped when the container goes */
struct name_link {
  char *dir;    /* containers/names */
  char *lock;   /* the index's lock file (locks/containers) */
  char *record; /* the container's config.json: its current name (rename changes it) */
  char *id;     /* the link's target while it is this container's */
};

struct container {
  json_t *json; /* owns every string below */
  char *bundle;
  struct process proc;
  char *root_path;
  bool root_readonly;
  const char *hostname;
  struct mount_entry *mounts;
  size_t nmounts;
  struct ns_spec ns[NS_COUNT];
  struct idmap *uidmap, *gidmap;
  size_t nuidmap, ngidmap;
  const char **masked, **readonly;
  size_t nmasked, nreadonly;
  struct sysctl *sysctls;
  size_t nsysctls;
  struct device *devices;
  size_t ndevices;
  struct dev_rule *dev_rules; /* linux.resources.devices (none: the spec sets no device policy) */
  size_t ndev_rules;
  /* the `skiff` extension */
  bool has_overlay;
  struct overlay overlay;
  const char *exit_file, *pid_file, *seccomp_cache;
  const char **remove;
  size_t nremove;
  const char *trash_dir; /* skiff.trashDir: --rm renames `remove` paths here, a detached child deletes them */
  struct name_link names; /* skiff.nameIndex (strings of json; all NULL without it) */
  bool idmap_helpers;
  bool die_with_parent; /* skiff.dieWithParent: a build step dies with the build that runs it */
  const char **cgroups; /* skiff.cgroups: absolute dirs the init is moved into */
  size_t ncgroups;
  const char **cgroup_writes; /* skiff.cgroupWrites: file, value, file, value... (the limits), in a group's dir or its parent */
  size_t ncgroup_writes;      /* pairs */
  json_t *monitor;      /* skiff.monitor (read by monitor_config_load) */
  json_t *events;       /* skiff.events (events.c), or NULL */
  struct net_plan *network;   /* skiff.network: the plan the network step sets up (net.h), or NULL */
  const char *network_status; /* skiff.networkStatusFile: where the step writes the status */
};

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_UNLESS_STOPPED };

/* skiff.monitor plus what the monitor needs of skiff.*, copied out of the tree so the spec can be freed. */
struct monitor_config {
  char *bundle, *log_file, *attach_socket, *stop_file, *state_file, *exit_file, *pid_file, *winsize_file;
  long long log_max_size; /* bytes, 0 = unlimited */
  int log_max_file;
  bool open_stdin, terminal;
  enum restart_policy restart;
  int max_retries;
  char **remove;
  size_t nremove;
  char *trash_dir; /* skiff.trashDir (or NULL) */
  struct name_link names; /* skiff.nameIndex (copies) */
  json_t *events;  /* skiff.events (a copy), or NULL */
  char **cgroups;  /* skiff.cgroups: removed after every exit, made again by every start */
  size_t ncgroups;
  bool has_health;
  char *health_process, *health_file;
  long long interval_ms, timeout_ms, start_period_ms;
  int retries;
  struct net_plan *network; /* skiff.network (its own reference to the plan's JSON), or NULL */
};

int spec_load_container(const char *bundle, struct container *c);
void spec_free_container(struct container *c); /* everything spec_load_container allocated */
int monitor_config_load(const struct container *c, struct monitor_config *m);
int monitor_reload_restart(struct monitor_config *m);
int spec_log_target(const struct container *c, const char **path, long long *max_size, int *max_file);
int spec_load_process(const char *file, struct process *p, json_t **owner);
int spec_parse_process(json_t *j, struct process *p);
int parse_idmap_text(const char *text, struct idmap **out, size_t *n);
int cap_from_name(const char *name);
const char *cap_name(int bit);

/* ---- namespaces.c ---- */
extern const struct ns_info {
  const char *type, *proc;
  int flag;
} NAMESPACES[NS_COUNT];
int ns_clone_flags(const struct container *c);
int ns_join_parent(const struct container *c); /* setns every ns with a path except mnt (user first) */
int ns_join_mnt(const struct container *c);    /* child side */
/* A joined PID namespace applies to every child the shim forks: the shim's own one (an fd, -1 when no
   PID namespace is joined) saved before ns_join_parent, entered again once the container is cloned. */
int ns_pid_saved(const struct container *c);
int ns_pid_restore(const struct container *c, int *saved);
int write_idmaps(pid_t pid, const struct idmap *u, size_t nu, const struct idmap *g, size_t ng, bool helpers);
/* write_idmaps with the helpers in two halves: started (others' work overlaps them), then waited for */
struct idmap_helper {
  const char *path;
  pid_t pid;
  int err; /* read end of its stderr */
};
struct idmap_job {
  struct idmap_helper hu, hg;
};
int idmaps_start(struct idmap_job *j, pid_t pid, const struct idmap *u, size_t nu, const struct idmap *g, size_t ng);
int idmaps_finish(struct idmap_job *j); /* 0 when both succeeded (or none was started) */
int loopback_up(void);

/* ---- mounts.c ---- */
/* The container's filesystem in two parts: rootfs_prepare (the child, while the shim places it in its
   cgroups and sets its network up: overlay, the spec's mounts before its first cgroup mount) and,
   once it is in its cgroups and has its cgroup namespace, rootfs_enter (the rest of the mounts, /dev's
   nodes, pivot_root): see container_child in cmd_run.c for when. */
struct rootfs {
  int fd;      /* the new root (an O_PATH fd), between the two */
  size_t next; /* the first of the spec's mounts not done yet */
};
int rootfs_prepare(const struct container *c, bool userns, struct rootfs *r);
int rootfs_enter(const struct container *c, bool userns, struct rootfs *r);
/* ---- copyup.c ---- */
int prepare_volume(int rootfd, const struct mount_entry *m, uid_t uid, gid_t gid);
/* after pivot: FINISH_EARLY (before MSG_GO: read-only and masked paths over no sysctl, hostname),
   FINISH_LATE (after GO: sysctls, the read-only and masked paths over them, the read-only root) */
enum finish_part { FINISH_EARLY, FINISH_LATE };
int finish_rootfs(const struct container *c, enum finish_part part);
int bind_console(const char *pts);

/* ---- security.c ---- */
struct bpf {
  void *insns; /* struct sock_filter[] */
  size_t len;  /* bytes */
  unsigned flags; /* SECCOMP_FILTER_FLAG_* */
};
int seccomp_cache_open(const char *dir);
int seccomp_from_cache(json_t *sc, int cachefd, struct bpf *out, char **key);
int seccomp_compile(json_t *sc, struct bpf *out);
void seccomp_store(int cachefd, const char *key, const struct bpf *b);
int seccomp_flags(json_t *sc, unsigned *flags);
struct filter_job {
  json_t *sc;
  int cachefd;
  char *key;
  struct bpf bpf;
  bool pending; /* not cached: compiled by filter_deliver while the child sets up */
};
int filter_prepare(struct filter_job *f, json_t *sc, const char *cachedir);
int filter_deliver(struct filter_job *f, int sock);
void filter_free(struct filter_job *f);
#define cleanup_filter __attribute__((cleanup(filter_free))) /* filter_prepare initialises it */
int seccomp_load_bpf(const struct bpf *b);
const char *seccomp_default_cachedir(const char *override);
int caps_drop_bounding(const struct process *p);
int caps_apply(const struct process *p, bool keep_sys_admin);

/* ---- process.c ---- */
struct exec_ctx {
  int sock;            /* channel to the shim parent */
  bool console;        /* bind the pty slave on /dev/console (run) */
  struct bpf *bpf;     /* filter to load, or NULL */
  bool bpf_pending;    /* the parent sends the filter later (MSG_BPF) */
  bool set_rlimits_oom;
};
void __attribute__((noreturn)) exec_process(struct process *p, struct exec_ctx *x);

/* ---- cmd_run.c: the container-start sequence ---- */
struct net_held;
struct start_io {
  int in, out, err; /* installed as the container's 0, 1, 2 (-1: keep the shim's) */
};
struct started {
  pid_t pid;
  int master;    /* pty master (terminal), else -1 */
  int userns_fd; /* the container's user namespace (kept for --rm), else -1 */
};
/* Parse-free: c is loaded; signals must be blocked (block_signals). Writes the pid file. `net`
   (needed when c->network is set) holds the container's network: host ports held there already (a
   restart) are kept. On failure the child is killed and reaped, what this start made (cgroups,
   network) undone and the failure recorded; s->userns_fd may still be open (the caller's). */
int container_start(struct container *c, const struct start_io *io, struct net_held *net, struct started *s);

/* ---- finish.c: after the final exit ---- */
void write_exit_file(const char *exit_file, int code, int sig, const char *error, bool oom);
/* events (oom, die: event_append) then write_exit_file */
void record_exit(const char *exit_file, json_t *events, int code, int sig, const char *error, bool oom);
/* events.c: append a container event to skiff.events' log (events NULL: none); exit_code < 0: no exitCode attribute */
void event_append(json_t *events, const char *action, int exit_code);
/* --rm: drop the name link (names, may be NULL) and delete `paths` (inside the user namespace when
   userns_fd >= 0); with trash_dir renamed there first and deleted by a detached child; mnt_fd (or -1)
   is closed (by that child). */
void remove_paths(char *const *paths, size_t n, const char *trash_dir, int userns_fd, int mnt_fd, const struct name_link *names);
struct net_plan;
/* net_teardown_held in a child detached from us (links wait for RCU: kept off the exit's path). */
void net_teardown_detached(const struct net_plan *p, const struct net_held *h);
void detach_self(void); /* in a child: new session, stdio on /dev/null, every other fd closed */

/* ---- logfile.c ---- */
struct logfile;
struct logfile *log_open(const char *path, long long max_size, int max_file); /* NULL: failure recorded */
/* Output of stream 1 (stdout) or 2 (stderr): split into Docker's json-file entries. */
void log_data(struct logfile *l, int stream, const char *data, size_t len);
void log_flush(struct logfile *l, int stream); /* end of a stream: the partial line as an entry */
/* JSON string body for data (Docker's escaping; invalid UTF-8 → U+FFFD); returns the length written
   to out (needs 6 * len + 1 bytes). */
size_t json_escape(const char *data, size_t len, char *out);

/* ---- attach.c ---- */
int attach_listen(const char *path); /* the listening socket, or -1 (failure recorded) */
#define ATTACH_MAX 16
struct attach_clients {
  int fd[ATTACH_MAX];
  bool eof[ATTACH_MAX]; /* the client shut down its sending side */
  bool front[ATTACH_MAX]; /* handed in at the start (run -it's CLI): gets the exit frame before the close */
  size_t n;
};
#define ATTACH_EXIT_STREAM 0xff /* the exit frame's stream byte; its bytes: the exit code in decimal */
int attach_add(struct attach_clients *a, int fd, bool front);
void attach_accept(int listener, struct attach_clients *a);
void attach_send(struct attach_clients *a, int stream, const char *data, size_t len);
/* Read from client i: 0 (bytes in *len, maybe none), 1 when it stopped sending, -1 when it went away (removed). */
int attach_read(struct attach_clients *a, size_t i, char *buf, size_t cap, size_t *len);
void attach_drop(struct attach_clients *a, size_t i);
void attach_close_all(struct attach_clients *a, int code); /* code >= 0: the exit frame to front clients first */

/* ---- health.c ---- */
struct health;
struct health *health_new(const struct monitor_config *m);
void health_reset(struct health *h, pid_t init); /* a (re)started container: Status starting */
int health_fd(const struct health *h);         /* the running probe's output pipe, or -1 */
long long health_due_ms(const struct health *h); /* monotonic ms of the next event (probe or timeout), -1 none */
void health_tick(struct health *h);             /* start a due probe, enforce its timeout */
void health_read(struct health *h);             /* output of the probe */
bool health_reaped(struct health *h, pid_t pid, int status); /* true if pid was the probe */
void health_stop(struct health *h);             /* the container stopped: kill a running probe */
long long monotonic_ms(void);

/* ---- trace.c ---- (SKIFF_TRACE_STARTUP=1: the start's phases, "skiff-trace-shim PHASE MS ...") */
enum trace_phase { TR_LOADED, TR_CLONED, TR_MAPPED, TR_MOUNTED, TR_ENTERED, TR_CGROUPS, TR_NETWORK, TR_GO, TR_EXEC, TR_COUNT };
void trace_init(void);                   /* main(): the clock's origin; off unless SKIFF_TRACE_STARTUP=1 */
void trace_mark(enum trace_phase p);     /* the phase ended now (also from the container's child) */
size_t trace_line(char *buf, size_t cap); /* the line (with its newline) into buf and the marks reset; 0: none */
void trace_print(int fd);

/* ---- cgroup.c ---- */
/* mkdir each skiff.cgroups dir, write the limits, apply linux.resources.devices there */
int cgroup_prepare(const struct container *c);
/* The first cgroup v2 dir of skiff.cgroups opened (*index: which), -2 when none, -1 on failure. */
int cgroup_v2_fd(const struct container *c, size_t *index);
int cgroup_move(const char *dir, pid_t pid); /* pid into dir (0: the caller's own thread, v1 only) */
int cgroup_join_dirs(json_t *dirs);                             /* exec: move ourselves into these dirs */
void cgroup_remove(const char *const *dirs, size_t n);          /* rmdir them (warns on failure) */
bool cgroup_oom_killed(const char *const *dirs, size_t n);     /* the OOM killer killed in them (before cgroup_remove) */

/* ---- devices.c ---- */
bool shim_rootless(void); /* not root, or root of a user namespace other than the initial one */
/* The device policy on one cgroup dir (an open fd): 1 when applied (a v1 devices hierarchy or a
   cgroup v2 group), 0 when the dir is of another v1 hierarchy, -1 on failure (recorded). */
int devices_apply(int dirfd, const char *dir, const struct dev_rule *rules, size_t n);

/* ---- io.c ---- */
int pty_setup_child(int sock, bool console, uid_t owner);
int block_signals(void);
void reset_signals_child(void);
void clear_nonblock_stdio(void);
/* Relay the pty (if master >= 0), forward signals, reap; returns Docker's exit code. */
/* A foreground container's output on its way to our stdout/stderr: the pipes it writes (-1: none, or
   a terminal, whose master supervise reads) and the json-file log every byte also goes to (or NULL).
   `attach`: the streams the user sees (run -a): output of another stream goes to the log only, and
   without ATTACH_IN our stdin is not read. */
#define ATTACH_IN 1u
#define ATTACH_OUT 2u
#define ATTACH_ERR 4u
#define ATTACH_ALL (ATTACH_IN | ATTACH_OUT | ATTACH_ERR)
struct relay {
  int out, err;
  struct logfile *log;
  unsigned attach;
  /* detach keys on a terminal's input (exec -it): typed in order, the master goes to detach_sock
     (MSG_PTY), supervise returns 0 at once and sets `detached`; a partial match is held back */
  const unsigned char *detach_keys;
  size_t detach_len;
  int detach_sock;
  bool detached;
};
int supervise(pid_t child, int master, int *signal_out, bool forward_tty_signals, struct relay *relay);
int exit_code_of(int status, int *signal_out);

#endif
