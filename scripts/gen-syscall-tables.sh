#!/usr/bin/env bash
# Writes the syscall name tables the agent shows gadget_syscall_nr fields with:
#   exporter/src/main/resources/io/gadgetexporter/gadget/syscalls-{x86_64,arm64}.txt
# one "number name" a line. The tables are committed; rerun this after a kernel headers upgrade
# (Debian's linux-libc-dev) and commit the difference. The agent never reads the running system's
# headers: the numbers are the kernel ABI, the same on every machine of an architecture.
#
# x86_64: asm/unistd_64.h as installed. arm64: asm-generic/unistd.h preprocessed with the
# __ARCH_WANT_* switches arm64's own asm/unistd.h sets and 64-bit longs (taken from the x86_64
# headers' asm/bitsperlong.h: any 64-bit one will do), so that __NR3264_fcntl is fcntl, not
# fcntl64. Syscalls newer than the installed headers come from NEWER below: since 5.1 (424,
# pidfd_send_signal) every architecture gives a new syscall the same number.
set -euo pipefail
cd "$(dirname "$0")/.."
out=exporter/src/main/resources/io/gadgetexporter/gadget

# number name, for syscalls added after the headers this script last ran with (Linux 6.1's end
# at 450); the table keeps what the headers say where both have a number.
NEWER='451 cachestat
452 fchmodat2
453 map_shadow_stack
454 futex_wake
455 futex_wait
456 futex_requeue
457 statmount
458 listmount
459 lsm_get_self_attr
460 lsm_set_self_attr
461 lsm_list_modules
462 mseal
463 setxattrat
464 getxattrat
465 listxattrat
466 removexattrat
467 open_tree_attr
468 file_getattr
469 file_setattr'

table() { # merge the headers' list (stdin) with NEWER, sorted by number
  { cat; echo "$NEWER"; } | sort -n -k1,1 -u -s
}

sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/\2 \1/p' \
  /usr/include/x86_64-linux-gnu/asm/unistd_64.h | table > "$out/syscalls-x86_64.txt"

# The generic table names some syscalls through __NR3264_x aliases: resolve them.
printf '#define __ARCH_WANT_RENAMEAT\n#define __ARCH_WANT_NEW_STAT
#define __ARCH_WANT_SET_GET_RLIMIT\n#define __ARCH_WANT_TIME32_SYSCALLS
#define __ARCH_WANT_MEMFD_SECRET\n#define __ARCH_WANT_SYS_CLONE3
#include <asm-generic/unistd.h>\n' |
  cpp -P -dM -nostdinc -I /usr/include -I /usr/include/x86_64-linux-gnu - |
  awk '$1 == "#define" && $2 ~ /^__NR(3264)?_/ { def[$2] = $3 }
       END {
         for (n in def) {
           if (n !~ /^__NR_/ || n == "__NR_syscalls") continue
           v = def[n]
           while (v in def) v = def[v]
           if (v ~ /^[0-9]+$/) print v, substr(n, 6)
         }
       }' | sort -n | table > "$out/syscalls-arm64.txt"
wc -l "$out"/syscalls-*.txt
