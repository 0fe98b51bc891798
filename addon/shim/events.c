/*
 * The events the shim records itself (die, oom, a restart's start, --rm's destroy): what happens when
 * no CLI runs. One JSON line (Docker's events.Message) appended to the store's event log
 * (skiff.events.file) with O_APPEND and one write under PIPE_BUF, as the CLI's src/store/events.ts
 * does; rotation is the CLI's. skiff.events: {file, record, id, attributes} (the record's Name is read
 * at the time of the event: `rename` may have changed it).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"

static int append_line(const char *file, const char *line) {
  size_t len = strlen(line);
  if (len >= PIPE_BUF) return failx("event for %s too long (%zu bytes)", file, len);
  cleanup_close int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail("open the event log %s", file);
  ssize_t n;
  do n = write(fd, line, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail("append to the event log %s", file);
  if ((size_t)n != len) return failx("append to the event log %s: short write", file);
  return 0;
}

/* Refresh the name from the record (absent after --rm's removal: the last one read stays). */
static void refresh_name(json_t *ev, json_t *attrs) {
  const char *record = json_string_value(json_object_get(ev, "record"));
  if (!record) return;
  cleanup_json json_t *rec = json_load_file(record, 0, NULL);
  const char *name = json_string_value(json_object_get(rec, "Name"));
  if (name && *name) json_object_set_new(attrs, "name", json_string(name));
}

void event_append(json_t *ev, const char *action, int exit_code) {
  const char *file = json_string_value(json_object_get(ev, "file"));
  const char *id = json_string_value(json_object_get(ev, "id"));
  json_t *attrs = json_object_get(ev, "attributes");
  if (!file || !id || !json_is_object(attrs)) return;
  refresh_name(ev, attrs);
  cleanup_json json_t *a = json_deep_copy(attrs);
  if (!a) return;
  char code[16];
  snprintf(code, sizeof code, "%d", exit_code);
  if (exit_code >= 0 && json_object_set_new(a, "exitCode", json_string(code)) < 0) return;
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
    fail("read the clock for an event");
    print_failure();
    return;
  }
  const char *image = json_string_value(json_object_get(attrs, "image"));
  cleanup_json json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:O}, s:s, s:I, s:I}", "status", action, "id", id, "from",
                                     image ? image : "", "Type", "container", "Action", action, "Actor", "ID", id, "Attributes", a,
                                     "scope", "local", "time", (json_int_t)ts.tv_sec,
                                     "timeNano", (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
  cleanup_free char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
  if (!s) return;
  size_t len = strlen(s);
  cleanup_free char *line = malloc(len + 2);
  if (!line) return;
  memcpy(line, s, len);
  line[len] = '\n', line[len + 1] = 0;
  if (append_line(file, line) < 0) print_failure();
}
