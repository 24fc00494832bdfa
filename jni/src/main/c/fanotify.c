/*
 * fanotify exec-permission events, for io.gadgetexporter.linux.Fanotify.
 *
 * A FAN_OPEN_EXEC_PERM mark on a binary makes every execve of it wait in the kernel until the
 * listener writes a response (FAN_ALLOW or FAN_DENY) for the event's fd, or closes the fanotify fd
 * (the kernel then allows everything pending). While it waits, the task is still the old program:
 * its memory holds the new argv, which is why the agent pauses runc there.
 *
 * What Java gets in the bound direct buffer after poll/read returned n, from offset 0, per event:
 *   s32 pid, s32 fd        (native byte order; the fd is open in this process until responded)
 * Events that cannot be answered (queue overflow, FAN_NOFD) are counted, never copied.
 */
#include "jni_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <unistd.h>

#define OUT_SLOT 8u /* s32 pid, s32 fd */

/* Every kind of event the kernel waits on an answer for; we only mark FAN_OPEN_EXEC_PERM. */
#define PERM_EVENTS (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM)

struct gx_fanotify {
	int fan_fd;
	int event_fd; /* wakeup(): poll(2) waits on both */
	__s32 *out;   /* the Java direct buffer, bound once */
	size_t out_slots;
	__u64 overflows; /* written by the polling thread only; read by it too (Java publishes it) */
};

static void fan_free(struct gx_fanotify *f)
{
	/* Closing fan_fd is what releases every pending exec (fanotify_release answers FAN_ALLOW). */
	if (f->fan_fd >= 0)
		close(f->fan_fd);
	if (f->event_fd >= 0)
		close(f->event_fd);
	free(f);
}

static jlong JNICALL fan_open(JNIEnv *env, jclass cls, jobject jbuf)
{
	struct gx_fanotify *f = calloc(1, sizeof(*f));
	if (!f) {
		gx_throw_oom(env, "fanotify listener");
		return 0;
	}
	f->fan_fd = f->event_fd = -1;

	f->out = (*env)->GetDirectBufferAddress(env, jbuf);
	jlong cap = (*env)->GetDirectBufferCapacity(env, jbuf);
	if (!f->out || cap < (jlong)OUT_SLOT) {
		gx_throw_illegal_argument(env, "the fanotify listener needs a direct ByteBuffer");
		goto fail;
	}
	f->out_slots = (size_t)cap / OUT_SLOT;

	/*
	 * FAN_CLASS_CONTENT: permission events need a class above NOTIF. FAN_NONBLOCK: reads end with
	 * EAGAIN, so one poll drains everything queued. The event fds are O_CLOEXEC so a process we
	 * start never inherits (and keeps open) a binary being exec'ed.
	 */
	f->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
				  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (f->fan_fd < 0) {
		int err = errno;
		const char *hint = NULL;
		if (err == EPERM)
			hint = "fanotify needs CAP_SYS_ADMIN in the initial user namespace";
		else if (err == EINVAL)
			hint = "this kernel has no fanotify permission events "
			       "(CONFIG_FANOTIFY_ACCESS_PERMISSIONS)";
		else if (err == ENOSYS)
			hint = "this kernel is built without fanotify (CONFIG_FANOTIFY)";
		gx_throw_syscall(env, err, hint, "fanotify_init(FAN_CLASS_CONTENT)");
		goto fail;
	}

	/*
	 * fanotify_init succeeds on 4.x kernels too; FAN_OPEN_EXEC_PERM (5.0) is only checked by
	 * fanotify_mark. Probe it now, without side effects: removing a mark that does not exist is
	 * ENOENT where the flag is known, and EINVAL (the mask check comes first) where it is not.
	 */
	if (fanotify_mark(f->fan_fd, FAN_MARK_REMOVE, FAN_OPEN_EXEC_PERM, AT_FDCWD, "/") < 0 &&
	    errno == EINVAL) {
		gx_throw_syscall(env, errno, "the kernel lacks FAN_OPEN_EXEC_PERM (Linux 5.0 or later)",
				 "fanotify_mark(FAN_OPEN_EXEC_PERM)");
		goto fail;
	}

	f->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->event_fd < 0) {
		gx_throw_syscall(env, errno, NULL, "eventfd");
		goto fail;
	}
	return gx_handle(f);
fail:
	fan_free(f);
	return 0;
}

static void JNICALL fan_close(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_fanotify *f = GX_PTR(struct gx_fanotify, h);
	if (f)
		fan_free(f);
}

/* A setup call: throws SystemCallException naming the path. `jpath` holds the path's bytes. */
static void JNICALL fan_mark_exec(JNIEnv *env, jclass cls, jlong h, jbyteArray jpath)
{
	struct gx_fanotify *f = GX_PTR(struct gx_fanotify, h);
	jsize len = (*env)->GetArrayLength(env, jpath);
	char *path = malloc((size_t)len + 1);
	if (!path) {
		gx_throw_oom(env, "path");
		return;
	}
	(*env)->GetByteArrayRegion(env, jpath, 0, len, (jbyte *)path);
	path[len] = '\0';

	/*
	 * An inode mark: it follows the file, not the name, so it survives renames and bind mounts
	 * (the runtime seen from another mount namespace is the same inode) but not a replacement
	 * (a package upgrade writes a new inode). Symlinks are followed: /usr/bin/runc -> the binary.
	 */
	if (fanotify_mark(f->fan_fd, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, path) < 0)
		gx_throw_syscall(env, errno, NULL, "fanotify_mark(%s)", path);
	free(path);
}

/*
 * Reads events until the queue is empty (EAGAIN) or the buffer is full, copying the answerable
 * ones. Returns the number copied, or -errno when a read failed before any was copied.
 *
 * A permission event read is ours to answer: it is never left behind in a local buffer. Each read
 * asks for at most as many events as there are free slots (every event is at least
 * FAN_EVENT_METADATA_LEN bytes, and the kernel only returns whole events), so a full Java buffer
 * leaves the rest queued in the kernel for the next call instead of dropping them.
 */
static int fan_read_events(struct gx_fanotify *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	size_t n = 0;

	while (n < f->out_slots) {
		size_t want = (f->out_slots - n) * FAN_EVENT_METADATA_LEN;
		if (want > sizeof(buf))
			want = sizeof(buf);
		ssize_t len = read(f->fan_fd, buf, want);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/*
			 * E.g. EMFILE: the kernel could not open the event's fd for us, and has
			 * already denied that exec. Events copied so far must still reach Java to be
			 * answered; the error shows again on the next call if it persists.
			 */
			return n ? (int)n : -errno;
		}
		if (len == 0)
			break;

		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION)
				return -EPROTO; /* unchanged since 2.6.37; a new layout we cannot parse */
			if ((m->mask & FAN_Q_OVERFLOW) || m->fd == FAN_NOFD || m->fd < 0) {
				/* Nothing to answer: an overflowed queue dropped events, and the kernel
				 * allowed the execs they stood for. */
				f->overflows++;
				continue;
			}
			if (!(m->mask & PERM_EVENTS)) {
				close(m->fd); /* not marked for; keep no fd we will never use */
				continue;
			}
			f->out[2 * n] = m->pid;
			f->out[2 * n + 1] = m->fd;
			n++;
		}
	}
	return (int)n;
}

/*
 * Waits up to timeout_ms (-1: forever) for events or wakeup(), then reads. Level-triggered poll(2)
 * is enough: the fanotify fd is readable exactly while unread events are queued (a permission
 * event read moves to the kernel's list of events awaiting an answer and no longer counts).
 * Returns events copied (0 after a timeout, a wake-up or a signal), or -errno.
 */
static jint JNICALL fan_poll(JNIEnv *env, jclass cls, jlong h, jint timeout_ms)
{
	struct gx_fanotify *f = GX_PTR(struct gx_fanotify, h);
	struct pollfd fds[2] = {
		{.fd = f->fan_fd, .events = POLLIN},
		{.fd = f->event_fd, .events = POLLIN},
	};

	int n = poll(fds, 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (fds[1].revents & POLLIN) {
		__u64 v;
		/* Reset the eventfd so the next poll waits again. */
		if (read(f->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
	if (!(fds[0].revents & POLLIN))
		return 0;
	return fan_read_events(f);
}

/* Reads without waiting: after a poll that filled the buffer. Events copied, or -errno. */
static jint JNICALL fan_read(JNIEnv *env, jclass cls, jlong h)
{
	return fan_read_events(GX_PTR(struct gx_fanotify, h));
}

/*
 * Answers the event whose fd is `fd`, then closes that fd whatever the answer's fate: it is ours,
 * and a later respond for the same request must find nothing to do. Returns 0 or -errno of the
 * write; ENOENT means the kernel no longer waits for this answer.
 */
static jint JNICALL fan_respond(JNIEnv *env, jclass cls, jlong h, jint fd, jboolean allow)
{
	struct gx_fanotify *f = GX_PTR(struct gx_fanotify, h);
	struct fanotify_response r = {.fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY};
	int err = 0;

	if (write(f->fan_fd, &r, sizeof(r)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static jint JNICALL fan_wakeup(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_fanotify *f = GX_PTR(struct gx_fanotify, h);
	__u64 one = 1;

	return write(f->event_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

static jlong JNICALL fan_overflows(JNIEnv *env, jclass cls, jlong h)
{
	return (jlong)GX_PTR(struct gx_fanotify, h)->overflows;
}

static const JNINativeMethod methods[] = {
	{"fanotifyOpen", "(Ljava/nio/ByteBuffer;)J", (void *)fan_open},
	{"fanotifyClose", "(J)V", (void *)fan_close},
	{"fanotifyMarkExec", "(J[B)V", (void *)fan_mark_exec},
	{"fanotifyPoll", "(JI)I", (void *)fan_poll},
	{"fanotifyRead", "(J)I", (void *)fan_read},
	{"fanotifyRespond", "(JIZ)I", (void *)fan_respond},
	{"fanotifyWakeup", "(J)I", (void *)fan_wakeup},
	{"fanotifyOverflows", "(J)J", (void *)fan_overflows},
};

int gx_register_fanotify(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
