package io.gadgetexporter.gadget;

/**
 * Names of file types: the {@code S_IFMT} bits of an inode's mode ({@code S_IFREG} = 0100000), the
 * same on every Linux architecture.
 */
public final class FileTypes {
  private FileTypes() {}

  /** {@code regular}, {@code directory}, {@code socket}, ...; octal for bits that name none. */
  public static String name(long mode) {
    return switch ((int) (mode & 0170000)) {
      case 0100000 -> "regular";
      case 0040000 -> "directory";
      case 0120000 -> "symlink";
      case 0140000 -> "socket";
      case 0010000 -> "fifo";
      case 0020000 -> "char_device";
      case 0060000 -> "block_device";
      default -> "0" + Long.toOctalString(mode & 0170000);
    };
  }
}
