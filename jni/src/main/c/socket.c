/*
 * Sockets for socket-filter programs. A packet socket bound to one interface sees every frame
 * that crosses it, both directions; a filter that returns 0 keeps them out of the socket's queue,
 * so it costs no copies when the program only counts or submits to a ring buffer.
 */
#include "jni_util.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

static const JNINativeMethod methods[] = {
	{"packetSocketOpen", "(Ljava/lang/String;)I", (void *)packet_socket_open},
};

int gx_register_socket(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
