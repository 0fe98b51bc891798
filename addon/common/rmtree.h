/* rm -rf that works on any tree: the one implementation, shared by the shim (--rm deletion) and the
   addons (store staging, system reset, the tar extractor's replaced directories). */
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Remove `name` (relative to `dirfd`, or a path with AT_FDCWD) and everything below it. Never follows
 * a symlink and never crosses into another filesystem (a mount point is an error); opens at most three
 * descriptors and passes the kernel single names only, so depth and total path length do not matter.
 * Directories we may not read, write or search are made u+rwx first; immutable or append-only files
 * and directories have those attributes cleared (FS_IOC_SETFLAGS, needs CAP_LINUX_IMMUTABLE).
 * A missing `name` is success. Returns 0, or -1 with errno set and one line in `err` (when given):
 * "cannot remove <path>: <why>", the path shortened when long.
 */
int rmtree_at(int dirfd, const char *name, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
