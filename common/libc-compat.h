/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarations glibc has and musl lacks, for the code ember uses from both. The guest binaries
 * are linked with musl (scripts/guest-build.sh), everything else with glibc; common.h includes
 * this file when the libc is not glibc. Declarations only: the calls behind them are the
 * kernel's, the same with either libc.
 */
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The new mount API's flags and struct mount_attr (open_tree, move_mount, fsopen, fsconfig,
 * fsmount, mount_setattr are called through syscall()): glibc >= 2.36 declares them in
 * <sys/mount.h>, musl leaves them to the kernel's header. */
#ifndef MOUNT_ATTR_RDONLY
#include <linux/mount.h>
#endif

/* statx() is in musl from 1.2.5 on; Debian 12 ships 1.2.3. */
#ifndef STATX_BASIC_STATS
#include <linux/stat.h>
static inline int statx(int dirfd, const char *restrict path, int flags, unsigned int mask,
			struct statx *restrict buf)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}
#endif
