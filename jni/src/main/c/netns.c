/* gx_run_in_netns: see netns.h. */
#include "netns.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>

/* The helper thread's stack: fn makes a system call or two. */
#define HELPER_STACK_BYTES (64 * 1024)

struct netns_job {
	int ns_fd;
	void (*fn)(void *arg);
	void *arg;
	int setns_err; /* out: positive errno, or 0 */
};

static void *enter_and_run(void *p)
{
	struct netns_job *job = p;

	if (setns(job->ns_fd, CLONE_NEWNET) < 0) {
		job->setns_err = errno;
		return NULL;
	}
	job->fn(job->arg);
	return NULL;
}

/* Whether ns_fd is the calling thread's own network namespace. */
static int is_own_netns(const struct stat *target)
{
	struct stat own;

	/* thread-self, not self: a thread's namespace may differ from its process's leader. */
	return stat("/proc/thread-self/ns/net", &own) == 0 && own.st_ino == target->st_ino &&
	       own.st_dev == target->st_dev;
}

int gx_run_in_netns(int ns_fd, void (*fn)(void *arg), void *arg, const char **failed)
{
	struct netns_job job = {.ns_fd = ns_fd, .fn = fn, .arg = arg};
	struct stat target;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, saved;
	int err;

	if (fstat(ns_fd, &target) < 0) {
		*failed = "fstat";
		return errno;
	}
	if (is_own_netns(&target)) {
		fn(arg);
		return 0;
	}
	/* The new thread inherits the creator's signal mask: block everything for its whole life. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	err = pthread_attr_init(&attr);
	if (err == 0) {
		pthread_attr_setstacksize(&attr, HELPER_STACK_BYTES);
		err = pthread_create(&thread, &attr, enter_and_run, &job);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err == 0)
		err = pthread_join(thread, NULL);
	if (err) {
		*failed = "thread";
		return err;
	}
	if (job.setns_err) {
		*failed = "setns";
		return job.setns_err;
	}
	return 0;
}
