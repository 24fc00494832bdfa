/*
 * Mounts a tmpfs with the new mount API, as util-linux 2.39+ mount(8) does: fsopen, fsconfig,
 * fsmount, move_mount. For TraceMountTest (trace_mount sees move_mount only).
 *
 *   new-mount-api SOURCE TARGET MISSING
 *
 * First moves the new mount to MISSING (a path that does not exist: fails with ENOENT), then to
 * TARGET. Run it in a private mount namespace (unshare -m).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int check(long ret, const char *what)
{
	if (ret < 0) {
		perror(what);
		_exit(1);
	}
	return (int)ret;
}

int main(int argc, char **argv)
{
	int fs, mnt;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SOURCE TARGET MISSING\n", argv[0]);
		return 2;
	}
	fs = check(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC), "fsopen");
	check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", argv[1], 0), "fsconfig source");
	check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0), "fsconfig size");
	check(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0), "fsconfig create");
	mnt = check(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
		    "fsmount");
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, argv[3], MOVE_MOUNT_F_EMPTY_PATH) == 0) {
		fprintf(stderr, "move_mount to %s succeeded\n", argv[3]);
		return 1;
	}
	check(syscall(SYS_move_mount, mnt, "", AT_FDCWD, argv[2], MOVE_MOUNT_F_EMPTY_PATH),
	      "move_mount");
	return 0;
}
