/*
 * libbpf's diagnostics, captured per thread.
 *
 * libbpf reports through one process-wide print callback. Its warnings are what explains a
 * failure (a map it could not create, a CO-RE relocation it could not resolve, and, in libbpf
 * 1.1, the whole verifier log of a program the kernel rejected, printed at WARN level between
 * "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG --"). The callback runs on the thread that
 * called libbpf, so each thread keeps the tail of its own warnings and a failing native call puts
 * them into the exception it throws.
 *
 * Set GADGET_EXPORTER_LIBBPF_LOG=warn|info|debug to also print libbpf's messages to stderr.
 */
#ifndef GX_LOG_H
#define GX_LOG_H

#include <stddef.h>

/* Installs the libbpf print callback. Called once from JNI_OnLoad. */
void gx_log_init(void);

/* Forgets this thread's captured warnings. Setup natives call it first thing. */
void gx_log_reset(void);

/*
 * The warnings captured on this thread since the last reset: the most recent ones if more were
 * printed than the capture holds (GX_LOG_CAPACITY). Never NULL; "" when there are none.
 */
const char *gx_log_text(void);

#define GX_LOG_CAPACITY (64 * 1024)

#endif
