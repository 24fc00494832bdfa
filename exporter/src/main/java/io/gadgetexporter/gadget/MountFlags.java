package io.gadgetexporter.gadget;

/**
 * Symbolic {@code mount(2)} and {@code umount2(2)} flags (include/uapi/linux/mount.h; the same on
 * every architecture).
 */
public final class MountFlags {
  /** MS_* by bit number: bit 0 is MS_RDONLY; null for bits with no flag. */
  private static final String[] MOUNT = {
    "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT",
    "MS_MANDLOCK", "MS_DIRSYNC", "MS_NOSYMFOLLOW", null, "MS_NOATIME", "MS_NODIRATIME", "MS_BIND",
    "MS_MOVE", "MS_REC", "MS_SILENT", "MS_POSIXACL", "MS_UNBINDABLE", "MS_PRIVATE", "MS_SLAVE",
    "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION", "MS_STRICTATIME", "MS_LAZYTIME"
  };
  /** Old callers put this magic number in the top 16 bits; the kernel ignores it. */
  private static final long MS_MGC_VAL = 0xC0ED0000L;
  private static final long MS_MGC_MSK = 0xFFFF0000L;

  private static final String[] UMOUNT = {
    "MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"
  };

  private MountFlags() {}

  /** For example {@code MS_NOSUID|MS_NODEV}; empty for 0; unknown bits as a hex number. */
  public static String mount(long flags) {
    StringBuilder out = new StringBuilder();
    long rest = flags;
    if ((rest & MS_MGC_MSK) == MS_MGC_VAL) {
      out.append("MS_MGC_VAL");
      rest &= ~MS_MGC_MSK;
    }
    return bits(out, rest, MOUNT);
  }

  /** For example {@code MNT_DETACH|UMOUNT_NOFOLLOW}; empty for 0; unknown bits as a hex number. */
  public static String umount(long flags) {
    return bits(new StringBuilder(), flags, UMOUNT);
  }

  private static String bits(StringBuilder out, long flags, String[] names) {
    long rest = flags;
    for (int bit = 0; bit < names.length; bit++) {
      if (names[bit] != null && (rest & (1L << bit)) != 0) {
        if (!out.isEmpty()) {
          out.append('|');
        }
        out.append(names[bit]);
        rest &= ~(1L << bit);
      }
    }
    if (rest != 0) {
      if (!out.isEmpty()) {
        out.append('|');
      }
      out.append("0x").append(Long.toHexString(rest));
    }
    return out.toString();
  }
}
