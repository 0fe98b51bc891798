/*
 * A container's state, derived from its files: the one implementation of ARCHITECTURE.md's "Container
 * state" rules, used by the native `ps` (skiff-shim, cmd_ps.c) and by the CLI (skiff_native's observe,
 * src/container/state.ts). Read-only, no lock: every file appears by rename.
 *   state.json (the CLI: StartedAt, BootId, Detached, ShimPid), pid and exit.json (the shim or monitor),
 *   monitor.json (monitorPid, restartCount, restarting), health.json (Docker's Health).
 * Each file is read once, monitor.json before the pid file (a restart writes the new pid file before
 * monitor.json says running again).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_RESTARTING, CTR_EXITED };
extern const char *const CTR_STATUS_NAMES[]; /* Docker's State.Status words, by enum ctr_status */

/* What a container's health check shows: none, or health.json's (or "starting" before the first probe). */
struct ctr_state {
  enum ctr_status status;
  long pid;              /* the init's, only while it is alive (running, paused), else 0 */
  int exit_code;
  char started_at[64];   /* state.json's StartedAt ("" when never started) */
  char finished_at[64];  /* RFC 3339 ("" when none: Docker's zero time) */
  char error[1024];      /* exit.json's error, or why the state was lost */
  int restart_count;
  bool oom_killed;        /* exit.json's oomKilled: the kernel's OOM killer ended the last run */
  bool detached;         /* state.json's Detached */
  bool abandoned;        /* started, not running, its monitor or shim (which removes a --rm one) gone, no init alive */
  bool has_health;       /* a health check applies and a monitor runs (or ran) it */
  char health_status[16];/* "starting", "healthy", "unhealthy" (with has_health) */
  char *health_json;     /* health.json as written (malloc'd, or NULL): Docker's Health object */
};

/*
 * Observe the container `id` whose files are in `dir`. `healthcheck`: the record has a health check the
 * monitor runs (containers.ts activeHealthcheck). Returns 0, or -1 with errno and one line in err
 * (a file that is there but cannot be read or is not JSON). ctr_state_free releases health_json.
 */
int ctr_observe(const char *dir, const char *id, bool healthcheck, struct ctr_state *out, char *err, size_t errlen);
void ctr_state_free(struct ctr_state *s);

/* Docker's STATUS column ("Up 3 minutes (healthy)", "Exited (0) 2 seconds ago", ...) at now_ms. */
void ctr_status_text(const struct ctr_state *s, double now_ms, char *out, size_t len);
/* go-units HumanDuration (units.ts humanDuration). */
void ctr_human_duration(double ms, char *out, size_t len);
/* RFC 3339 (JS toISOString or Go RFC3339Nano) → ms since the epoch; CTR_ZERO_MS when empty or invalid. */
#define CTR_ZERO_MS (-62135596800000.0) /* 0001-01-01T00:00:00Z */
double ctr_parse_time(const char *s);

/* The init pid of the pid file in dir when that process is alive and not younger than the file, else 0. */
long ctr_live_pid(const char *dir);
/* A live process whose command line names the container (its monitor or shim; a reused pid does not). */
bool ctr_is_monitor(long pid, const char *id);
/* This boot's id (/proc/sys/kernel/random/boot_id), as state.json records it. */
const char *ctr_boot_id(void);

#ifdef __cplusplus
}
#endif
