/*
 * Sockets for socket-filter programs. A packet socket bound to one interface sees every frame
 * that crosses it, both directions; a filter that returns 0 keeps them out of the socket's queue,
 * so it costs no copies when the program only counts or submits to a ring buffer.
 *
 * A packet socket sees its own network namespace only, and a socket belongs for life to the
 * namespace it was created in: one for another namespace is created there (gx_run_in_netns).
 */
#include "jni_util.h"
#include "log.h"
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static jint JNICALL packet_socket_open(JNIEnv *env, jclass cls, jstring jifname)
{
	char *ifname = gx_strdup_utf(env, jifname);
	if (!ifname)
		return -1;
	int fd = -1;
	unsigned int ifindex = if_nametoindex(ifname);
	if (ifindex == 0) {
		gx_throw_errno(env, errno, "interface '%s'", ifname);
		goto out;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0) {
		gx_throw_errno(env, errno, "socket(AF_PACKET, SOCK_RAW) for '%s'", ifname);
		goto out;
	}
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		gx_throw_errno(env, errno, "bind of packet socket to '%s'", ifname);
		close(fd);
		fd = -1;
	}
out:
	free(ifname);
	return fd;
}

/* Runs in the target namespace (gx_run_in_netns). */
struct packet_socket_job {
	int fd;  /* out: the socket, or -1 */
	int err; /* out: socket()'s errno */
};

static void packet_socket_create(void *arg)
{
	struct packet_socket_job *job = arg;

	/* Protocol 0: hooked to no device, so nothing is queued before the filter is attached and
	 * the socket bound (packet_socket_listen). */
	job->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (job->fd < 0)
		job->err = errno;
}

/* A packet socket in the network namespace `path` names; its inode goes to inode_out[0]. */
static jint JNICALL packet_socket_open_in_namespace(JNIEnv *env, jclass cls, jstring jpath,
						    jlongArray inode_out)
{
	char *path = gx_strdup_utf(env, jpath);
	struct packet_socket_job job = {.fd = -1};
	const char *failed;
	struct stat st;
	int ns_fd, err;

	if (!path)
		return -1;
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		gx_throw_errno(env, errno, "open of network namespace %s", path);
		goto out;
	}
	if (fstat(ns_fd, &st) < 0) {
		gx_throw_errno(env, errno, "fstat of network namespace %s", path);
		goto out;
	}
	err = gx_run_in_netns(ns_fd, packet_socket_create, &job, &failed);
	if (err) {
		gx_throw_errno(env, err, "%s for network namespace %s%s", failed, path,
			       err == EPERM ? " (entering another namespace needs CAP_SYS_ADMIN)" : "");
		goto out;
	}
	if (job.fd < 0) {
		gx_throw_errno(env, job.err, "socket(AF_PACKET, SOCK_RAW) in network namespace %s",
			       path);
		goto out;
	}
	jlong inode = (jlong)st.st_ino;
	(*env)->SetLongArrayRegion(env, inode_out, 0, 1, &inode);
	if ((*env)->ExceptionCheck(env)) {
		close(job.fd);
		job.fd = -1;
	}
out:
	if (ns_fd >= 0)
		close(ns_fd);
	free(path);
	return job.fd;
}

/* Starts delivery to a socket from packet_socket_open_in_namespace: every protocol, every
 * interface of its namespace (including ones added later). */
static void JNICALL packet_socket_listen(JNIEnv *env, jclass cls, jint fd)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = 0,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		gx_throw_errno(env, errno, "bind of packet socket fd %d to all interfaces", (int)fd);
}

static const JNINativeMethod methods[] = {
	{"packetSocketOpen", "(Ljava/lang/String;)I", (void *)packet_socket_open},
	{"packetSocketOpenInNamespace", "(Ljava/lang/String;[J)I",
	 (void *)packet_socket_open_in_namespace},
	{"packetSocketListen", "(I)V", (void *)packet_socket_listen},
};

int gx_register_socket(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
