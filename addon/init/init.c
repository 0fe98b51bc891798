/*
 * skiff-init: the minimal PID 1 behind `run --init` (statically linked, bind-mounted into the
 * container as /dev/init). It starts the command as its child, forwards the usual signals to it,
 * reaps every zombie re-parented to it, and exits with the child's status (128+signal if killed).
 * On a terminal the command's process group is the foreground one (typed Ctrl-C reaches it).
 * `skiff-init --pause`: no command; it only holds its namespaces (a pod's infra process, as Kubernetes'
 * pause container), reaps what is re-parented to it and exits 0 on SIGTERM, SIGINT or SIGHUP.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

static int pause_forever(void) {
  sigset_t all;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, NULL) < 0) {
    fprintf(stderr, "Error: skiff-init: sigprocmask: %s\n", strerror(errno));
    return 125;
  }
  for (;;) {
    int sig = sigwaitinfo(&all, NULL);
    if (sig < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "Error: skiff-init: sigwaitinfo: %s\n", strerror(errno));
      return 125;
    }
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) return 0;
    if (sig == SIGCHLD)
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--pause") == 0) return pause_forever();
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    fprintf(stderr, "Error: skiff-init: no command given\n");
    return 125;
  }
  sigset_t all, old;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, &old) < 0) {
    fprintf(stderr, "Error: skiff-init: sigprocmask: %s\n", strerror(errno));
    return 125;
  }
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "Error: skiff-init: fork: %s\n", strerror(errno));
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (setpgid(0, 0) < 0) { /* not fatal: the child stays in our group */ }
    /* on a terminal (-t) the command's group must be the foreground one, or a shell reading it is
       stopped by SIGTTIN (as tini does); tcsetpgrp from the background raises SIGTTOU: ignore it */
    if (isatty(STDIN_FILENO)) {
      signal(SIGTTOU, SIG_IGN);
      if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0)
        fprintf(stderr, "skiff-init: make the command the terminal's foreground: %s\n", strerror(errno));
      signal(SIGTTOU, SIG_DFL);
    }
    execvp(argv[first], argv + first);
    int e = errno;
    fprintf(stderr, "Error: exec: \"%s\": %s\n", argv[first], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "Error: skiff-init: sigwaitinfo: %s\n", strerror(errno));
      return 125;
    }
    if (sig != SIGCHLD) {
      for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        if (forwarded[i] == sig && kill(child, sig) < 0 && errno != ESRCH)
          fprintf(stderr, "skiff-init: kill: %s\n", strerror(errno));
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p == child) {
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      }
    }
  }
}
