/* skiff-shim: everything between fork and exec for a container (see ARCHITECTURE.md). */
#ifndef SKIFF_SHIM_H
#define SKIFF_SHIM_H
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* Report a failure as one line on stderr ("Error: ...") and return -1. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, appending ": strerror(errno)". */
int fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Child-side error channel: the child writes "<exit code> <message>" and exits; the parent prints it. */
void child_fail(int errfd, int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

/* process.c: apply an OCI `process` object (user, caps, nnp, seccomp, env, cwd) and exec. */
void apply_process_and_exec(json_t *process, json_t *seccomp, int errfd, int consolefd) __attribute__((noreturn));
int setup_terminal_child(int sockfd, int errfd);

/* io.c: parent-side relay of a pty master to our stdio, signal forwarding, waiting. */
int receive_fd(int sock);
int supervise(pid_t child, int master);

/* mounts.c */
int setup_rootfs(json_t *spec, bool userns, int errfd);

/* idmap.c */
int write_id_maps(pid_t pid, json_t *uidmaps, json_t *gidmaps, bool helpers);
int write_id_maps_text(pid_t pid, const char *uidmap, const char *gidmap);

int rm_rf(const char *path);
#endif
