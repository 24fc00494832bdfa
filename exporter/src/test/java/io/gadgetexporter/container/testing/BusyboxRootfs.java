package io.gadgetexporter.container.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A container root filesystem made of the host's static busybox: /bin/busybox, a link per applet
 * the tests use, the directories runc mounts over, and an /etc/passwd with root.
 */
public final class BusyboxRootfs {
  /** Where Debian's busybox-static puts it. */
  public static final Path HOST_BUSYBOX = Path.of("/bin/busybox");

  /** The applets linked in /bin, so that containers can run them by name. */
  public static final List<String> APPLETS =
      List.of(
          "sh",
          "sleep",
          "cat",
          "echo",
          "true",
          "ls",
          "touch",
          "mkdir",
          "head",
          "wc",
          "id",
          "hostname");

  private static final int PT_INTERP = 3;

  private BusyboxRootfs() {}

  /**
   * Builds the root filesystem in {@code dir} (created if missing, files of the same names
   * replaced) and returns {@code dir}.
   */
  public static Path build(Path dir) {
    byte[] busybox = hostBusybox();
    try {
      Path bin = Files.createDirectories(dir.resolve("bin"));
      for (String d : List.of("proc", "sys", "dev", "tmp", "etc", "root")) {
        Files.createDirectories(dir.resolve(d));
      }
      Path target = bin.resolve("busybox");
      Files.write(target, busybox);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
      for (String applet : APPLETS) {
        Path link = bin.resolve(applet);
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("busybox"));
      }
      Files.writeString(
          dir.resolve("etc/passwd"),
          "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
      Files.writeString(dir.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build a busybox root filesystem in " + dir, e);
    }
  }

  /** The host's busybox, checked to be static: a dynamic one would not find its libraries. */
  private static byte[] hostBusybox() {
    byte[] elf;
    try {
      elf = Files.readAllBytes(HOST_BUSYBOX);
    } catch (IOException e) {
      throw new AssertionError(
          HOST_BUSYBOX
              + " is missing ("
              + e
              + "): install the package busybox-static (scripts/install-packages.sh test does)",
          e);
    }
    if (hasInterpreter(elf)) {
      throw new AssertionError(
          HOST_BUSYBOX
              + " is dynamically linked (it has an ELF interpreter), so it cannot run in a"
              + " container without its libraries: install the package busybox-static, which"
              + " replaces the package busybox");
    }
    return elf;
  }

  /** True if a 64-bit little-endian ELF file has a PT_INTERP program header (is dynamic). */
  private static boolean hasInterpreter(byte[] elf) {
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    if (elf.length < 64 || b.getInt(0) != 0x464c457f || elf[4] != 2 || elf[5] != 1) {
      throw new AssertionError(
          HOST_BUSYBOX + " is not a 64-bit little-endian ELF executable: install busybox-static");
    }
    long phoff = b.getLong(0x20);
    int phentsize = Short.toUnsignedInt(b.getShort(0x36));
    int phnum = Short.toUnsignedInt(b.getShort(0x38));
    for (int i = 0; i < phnum; i++) {
      if (b.getInt((int) (phoff + (long) i * phentsize)) == PT_INTERP) {
        return true;
      }
    }
    return false;
  }
}
