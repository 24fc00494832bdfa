/* libbpf print callback with a per-thread capture of warnings; see log.h. */
#include "log.h"

#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capture {
	size_t len;                     /* bytes used in text, always < GX_LOG_CAPACITY */
	char text[GX_LOG_CAPACITY];     /* NUL-terminated */
};

/*
 * libbpf's reference to glibc's `stderr`, renamed at link time (see the Makefile: Debian's
 * libbpf.a is not PIC). Set before any libbpf code can run.
 */
__attribute__((visibility("hidden"))) FILE *gx_libbpf_stderr;

__attribute__((constructor)) static void init_libbpf_stderr(void)
{
	gx_libbpf_stderr = stderr;
}

static pthread_key_t capture_key;
/* Messages at or below this level also go to stderr; -1 = none (the default). */
static int stderr_level = -1;

/* Allocated on a thread's first warning, freed by the key's destructor when the thread exits. */
static struct capture *thread_capture(int create)
{
	struct capture *c = pthread_getspecific(capture_key);

	if (!c && create) {
		c = calloc(1, sizeof(*c));
		if (c && pthread_setspecific(capture_key, c) != 0) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

/* Appends, keeping the newest bytes when the capture is full: a log's tail says why it failed. */
static void capture_append(struct capture *c, const char *s, size_t n)
{
	const size_t cap = GX_LOG_CAPACITY - 1;

	if (n >= cap) {
		memcpy(c->text, s + (n - cap), cap);
		c->len = cap;
	} else {
		if (c->len + n > cap) {
			size_t drop = c->len + n - cap;

			memmove(c->text, c->text + drop, c->len - drop);
			c->len -= drop;
		}
		memcpy(c->text + c->len, s, n);
		c->len += n;
	}
	c->text[c->len] = '\0';
}

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if ((int)level <= stderr_level) {
		va_list copy;

		va_copy(copy, args);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level != LIBBPF_WARN)
		return 0;

	struct capture *c = thread_capture(1);
	if (!c)
		return 0;

	char small[1024];
	va_list copy;
	va_copy(copy, args);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	if ((size_t)n < sizeof(small)) {
		capture_append(c, small, (size_t)n);
		return 0;
	}
	/* A verifier log is one message of up to megabytes: format it whole, keep the tail. */
	char *big = malloc((size_t)n + 1);
	if (!big) {
		capture_append(c, small, sizeof(small) - 1);
		return 0;
	}
	vsnprintf(big, (size_t)n + 1, fmt, args);
	capture_append(c, big, (size_t)n);
	free(big);
	return 0;
}

void gx_log_init(void)
{
	pthread_key_create(&capture_key, free);

	const char *env = getenv("GADGET_EXPORTER_LIBBPF_LOG");
	if (env) {
		if (strcmp(env, "debug") == 0)
			stderr_level = LIBBPF_DEBUG;
		else if (strcmp(env, "info") == 0)
			stderr_level = LIBBPF_INFO;
		else if (strcmp(env, "warn") == 0)
			stderr_level = LIBBPF_WARN;
	}
	libbpf_set_print(print_cb);
}

void gx_log_reset(void)
{
	struct capture *c = thread_capture(0);

	if (c) {
		c->len = 0;
		c->text[0] = '\0';
	}
}

const char *gx_log_text(void)
{
	struct capture *c = thread_capture(0);

	return c ? c->text : "";
}
