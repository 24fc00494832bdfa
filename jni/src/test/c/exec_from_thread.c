/*
 * BlockedExecTest's target: a second thread calls execv(argv[1], argv + 1) while the main thread
 * sleeps, so the task in execve is not the one whose id is the process id (fanotify reports the
 * latter). The exec replaces the whole process; if it fails, exit 127.
 */
#include <pthread.h>
#include <unistd.h>

static char **args;

static void *exec_thread(void *unused)
{
	execv(args[0], args);
	_exit(127);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2)
		return 2;
	args = argv + 1;
	if (pthread_create(&t, NULL, exec_thread, NULL))
		return 1;
	for (;;)
		pause();
}
