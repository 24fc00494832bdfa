/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A task's open files, for gadgets that meet a file descriptor (a syscall's argument) and need
 * what it refers to: a file, a socket (net.h), a mount. Include after vmlinux.h. No maps here.
 */
#ifndef GADGET_FILES_H
#define GADGET_FILES_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * The file behind descriptor `fd` of `task`, or NULL when the descriptor is not open, is out of
 * range (negative, or past the table: a bad argument the syscall itself refused with EBADF), or
 * the task has no descriptor table (an exiting task). The bound is the table's own max_fds,
 * checked before the slot is read: the verifier cannot see the table, so nothing else keeps the
 * read inside it. Reads the table as it is now: call it in the task's own syscall (at its exit,
 * with the descriptor from the saved registers), where the descriptor cannot go away under it
 * unless another thread closes it.
 */
static __always_inline struct file *gadget_file_of_fd(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL;
	struct file **fds;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

#endif /* GADGET_FILES_H */
