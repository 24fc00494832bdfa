package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A pid file, as runtimes write them for a container's first process ({@code --pid-file}, e.g.
 * containerd's {@code init.pid}): one decimal number, perhaps followed by a newline.
 */
public final class PidFile {

  /** Pid files hold a number; anything longer than this is not one. */
  private static final int MAX_BYTES = 64;

  /** The largest pid Linux hands out ({@code PID_MAX_LIMIT}, 2^22). */
  private static final int PID_MAX_LIMIT = 1 << 22;

  private PidFile() {}

  /**
   * The pid in the file, or empty when there is no such file (not written yet, or the container
   * is gone).
   *
   * @throws ContainerMetadataException {@link Reason#MALFORMED_PID_FILE} when the content, trimmed
   *     of white space, is not a positive number no larger than Linux's largest pid; {@link
   *     Reason#READ_FAILED}
   */
  public static OptionalInt read(Path pidFile) {
    requireNonNull(pidFile, "pidFile");
    Optional<String> text =
        MetadataFiles.readUtf8(
            pidFile, MAX_BYTES, Reason.MALFORMED_PID_FILE, Reason.MALFORMED_PID_FILE);
    if (text.isEmpty()) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(parse(text.get(), pidFile.toString()));
  }

  /**
   * Parses a pid file's content.
   *
   * @param source names the file in error messages
   * @throws ContainerMetadataException {@link Reason#MALFORMED_PID_FILE}
   */
  static int parse(String content, String source) {
    String trimmed = content.strip();
    if (trimmed.isEmpty()) {
      throw new ContainerMetadataException(Reason.MALFORMED_PID_FILE, source, "empty");
    }
    boolean digits = trimmed.length() <= 9;
    for (int i = 0; digits && i < trimmed.length(); i++) {
      digits = trimmed.charAt(i) >= '0' && trimmed.charAt(i) <= '9';
    }
    int pid = digits ? Integer.parseInt(trimmed) : -1;
    if (pid <= 0 || pid > PID_MAX_LIMIT) {
      throw new ContainerMetadataException(
          Reason.MALFORMED_PID_FILE,
          source,
          "'" + MetadataFiles.printable(trimmed, 20) + "' is not a process id");
    }
    return pid;
  }
}
