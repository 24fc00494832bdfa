/*
 * The library's single exported symbol. Everything else is reached through the natives table each
 * subsystem registers here, so the .so works whatever package it is shaded into as long as the
 * Native class keeps its name, and a mismatch between jar and .so fails System.load at once.
 */
#include "jni_util.h"
#include "log.h"

#include <jni.h>

__attribute__((visibility("default"))) jint JNI_OnLoad(JavaVM *vm, void *reserved)
{
	JNIEnv *env;
	if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
		return JNI_ERR;
	if (gx_jni_cache_init(env))
		return JNI_ERR; /* the pending NoClassDefFoundError/NoSuchMethodError says what */

	int (*registrations[])(JNIEnv *) = {
		gx_register_library, gx_register_object, gx_register_program, gx_register_map,
		gx_register_ringbuf, gx_register_btf,    gx_register_probe,   gx_register_stats,
		gx_register_elf,     gx_register_socket, gx_register_fanotify,
	};
	for (int i = 0; i < GX_ARRAY_SIZE(registrations); i++)
		if (registrations[i](env))
			return JNI_ERR;

	gx_log_init();
	return JNI_VERSION_1_8;
}
