/* ELF symbol -> file offset, with libelf (a run-time dependency anyway, through libbpf). */
#include "elf.h"
#include "jni_util.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The virtual address of the defined function `name`, or 0. */
static GElf_Addr find_symbol(Elf *elf, const char *name, Elf64_Word type)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || sh.sh_entsize == 0)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
			    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
				continue;
			if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
				continue;
			const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && strcmp(s, name) == 0)
				return sym.st_value;
		}
	}
	return 0;
}

long long gx_elf_symbol_offset(const char *path, const char *name)
{
	long long result = -ESRCH;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return -ENOEXEC;
	}
	GElf_Addr addr = find_symbol(elf, name, SHT_SYMTAB);
	if (!addr)
		addr = find_symbol(elf, name, SHT_DYNSYM);
	size_t nph = 0;
	if (addr && elf_getphdrnum(elf, &nph) == 0) {
		/* Virtual address -> file offset through the loadable segment that holds it. */
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_memsz) {
				result = (long long)(addr - ph.p_vaddr + ph.p_offset);
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return result;
}

static jlong JNICALL elf_symbol_offset(JNIEnv *env, jclass cls, jstring jpath, jstring jname)
{
	char *path = gx_strdup_utf(env, jpath);
	char *name = gx_strdup_utf(env, jname);
	jlong r = -1;

	gx_log_reset();
	if (path && name) {
		long long off = gx_elf_symbol_offset(path, name);
		if (off == -ESRCH)
			gx_throw_illegal_argument(env, "%s has no function '%s'", path, name);
		else if (off < 0)
			gx_throw_errno(env, (int)-off, "reading symbols of %s", path);
		else
			r = off;
	}
	free(path);
	free(name);
	return r;
}

static const JNINativeMethod methods[] = {
	{"elfSymbolOffset", "(Ljava/lang/String;Ljava/lang/String;)J", (void *)elf_symbol_offset},
};

int gx_register_elf(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
