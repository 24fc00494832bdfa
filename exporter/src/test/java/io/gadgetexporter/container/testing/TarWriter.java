package io.gadgetexporter.container.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A minimal ustar writer: directories, regular files and symbolic links, owner root, mtime 0 (so
 * the same tree always gives the same bytes, hence the same digests). Names up to 100 bytes, which
 * is all the test images need; longer ones are rejected rather than written wrong.
 */
final class TarWriter implements AutoCloseable {
  private static final int BLOCK = 512;

  private final OutputStream out;

  TarWriter(OutputStream out) {
    this.out = out;
  }

  void directory(String name, int mode) {
    header(name.endsWith("/") ? name : name + "/", mode, 0, '5', "");
  }

  void file(String name, int mode, byte[] content) {
    header(name, mode, content.length, '0', "");
    write(content);
    write(new byte[(BLOCK - content.length % BLOCK) % BLOCK]);
  }

  void symlink(String name, String target) {
    header(name, 0777, 0, '2', target);
  }

  /** Adds everything below {@code dir}, named relative to it, parents before children. */
  void tree(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      List<Path> paths = all.filter(p -> !p.equals(dir)).sorted(Comparator.naturalOrder()).toList();
      for (Path p : paths) {
        String name = dir.relativize(p).toString();
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        if (Files.isSymbolicLink(p)) {
          symlink(name, Files.readSymbolicLink(p).toString());
        } else if (Files.isDirectory(p)) {
          directory(name, mode);
        } else {
          file(name, mode, Files.readAllBytes(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot add " + dir + " to a tar archive", e);
    }
  }

  /** Writes the end-of-archive marker (two zero blocks); does not close the stream. */
  @Override
  public void close() {
    write(new byte[2 * BLOCK]);
  }

  private void header(String name, int mode, long size, char type, String linkName) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name);
    put(h, 100, 8, octal(mode, 7));
    put(h, 108, 8, octal(0, 7)); // uid
    put(h, 116, 8, octal(0, 7)); // gid
    put(h, 124, 12, octal(size, 11));
    put(h, 136, 12, octal(0, 11)); // mtime
    h[156] = (byte) type;
    put(h, 157, 100, linkName);
    put(h, 257, 6, "ustar"); // "ustar\0"
    put(h, 263, 2, "00");
    put(h, 265, 32, "root");
    put(h, 297, 32, "root");
    // The checksum is computed with its own field read as eight spaces.
    Arrays.fill(h, 148, 156, (byte) ' ');
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, 8, octal(sum, 6) + "\0 ");
    write(h);
  }

  private static void put(byte[] header, int offset, int length, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > length) {
      throw new IllegalArgumentException("'" + value + "' is longer than " + length + " bytes");
    }
    System.arraycopy(bytes, 0, header, offset, bytes.length);
  }

  private static String octal(long value, int digits) {
    String s = Long.toOctalString(value);
    return "0".repeat(digits - s.length()) + s;
  }

  private void write(byte[] bytes) {
    try {
      out.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
