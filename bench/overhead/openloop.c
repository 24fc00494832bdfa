// SPDX-License-Identifier: Apache-2.0
/*
 * openloop: the workload of the overhead harness (run.sh). N open+close pairs of one path by one
 * thread; prints the elapsed time of the loop alone (not process start-up) in nanoseconds.
 *
 *   openloop [-c CPU] [-w] N [PATH]
 *
 *   -c CPU  pin the thread to CPU (sched_setaffinity) before the loop
 *   -w      wait: print "ready <pid>" on stdout and block until SIGUSR1 before looping, so a
 *           tracer can be attached to a process that already exists (and filter on its pid)
 *   PATH    default /tmp/gadget-exporter-openloop (created if missing)
 *
 * Output (stdout, one line each): "ready <pid>" (with -w), then "elapsed_ns <ns>",
 * "opens <N>", "failed <count>". Exit 0 when every open succeeded.
 *
 * The opens use openat(AT_FDCWD, path, O_RDONLY|O_CLOEXEC) through glibc's open(), the syscall
 * every tracer here hooks (sys_enter_openat / sys_exit_openat).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: openloop [-c CPU] [-w] N [PATH]\n");
	exit(2);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *path = "/tmp/gadget-exporter-openloop";
	int cpu = -1, wait_start = 0, opt;
	long long n, i, failed = 0, t0, t1;
	char *end;

	while ((opt = getopt(argc, argv, "c:w")) != -1) {
		switch (opt) {
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'w':
			wait_start = 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	errno = 0;
	n = strtoll(argv[optind], &end, 10);
	if (errno || *end || n <= 0)
		usage();
	if (optind + 1 < argc)
		path = argv[optind + 1];

	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "openloop: %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "openloop: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
	}

	if (wait_start) {
		sigset_t set;
		int sig;

		/* Blocked before "ready" is printed, so an early signal stays pending, not fatal. */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (sigwait(&set, &sig)) {
			fprintf(stderr, "openloop: sigwait failed\n");
			return 1;
		}
	}

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			failed++;
			continue;
		}
		close(fd);
	}
	t1 = now_ns();

	printf("elapsed_ns %lld\nopens %lld\nfailed %lld\n", t1 - t0, n, failed);
	return failed ? 1 : 0;
}
