/* ELF symbol lookup, for uprobes: the kernel wants a file offset, people know function names. */
#ifndef GX_ELF_H
#define GX_ELF_H

#include <sys/types.h>

/*
 * The file offset of function `name` in the ELF file at `path` (searching .symtab, then .dynsym),
 * or -errno: -ESRCH when the file has no such defined function (-ENOENT: no such file).
 */
long long gx_elf_symbol_offset(const char *path, const char *name);

#endif
