package io.gadgetexporter.linux;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The charset the JVM turns file names into bytes with ({@code sun.jnu.encoding}, from the locale),
 * so a name we pass to the kernel, or read out of a process, means the same file as the {@link
 * java.nio.file.Path} made from it.
 */
final class FileNames {
  static final Charset CHARSET = jnuCharset();

  private FileNames() {}

  private static Charset jnuCharset() {
    String name = System.getProperty("sun.jnu.encoding");
    try {
      return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
    } catch (IllegalArgumentException e) { // unknown or unsupported: the common case anyway
      return StandardCharsets.UTF_8;
    }
  }
}
