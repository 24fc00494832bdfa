package io.gadgetexporter.container;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/** Reads the small files runtimes keep, with a size cap, as strict UTF-8. */
final class MetadataFiles {

  private MetadataFiles() {}

  /**
   * The file's text, or empty when it does not exist (a container that is gone).
   *
   * <p>Only regular files are opened: a FIFO (runc keeps one, {@code exec.fifo}, beside its state)
   * would block the reader.
   *
   * @param tooLarge the reason when the file has more than {@code maxBytes}
   * @param malformed the reason when it is not UTF-8
   * @throws ContainerMetadataException with {@code tooLarge}, {@code malformed} or {@link
   *     Reason#READ_FAILED}
   */
  static Optional<String> readUtf8(Path file, int maxBytes, Reason tooLarge, Reason malformed) {
    byte[] bytes;
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      if (!attributes.isRegularFile()) {
        throw new ContainerMetadataException(Reason.READ_FAILED, file.toString(), "not a file");
      }
      if (attributes.size() > maxBytes) {
        throw tooLarge(file, attributes.size(), maxBytes, tooLarge);
      }
      try (InputStream in = Files.newInputStream(file)) {
        // One byte more than allowed tells a file that grew since its size was read.
        bytes = in.readNBytes(maxBytes + 1);
      }
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new ContainerMetadataException(
          Reason.READ_FAILED, file.toString(), "cannot read: " + ioProblem(e), e);
    }
    if (bytes.length > maxBytes) {
      throw tooLarge(file, -1, maxBytes, tooLarge);
    }
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString());
    } catch (CharacterCodingException e) {
      throw new ContainerMetadataException(malformed, file.toString(), "not UTF-8 text", e);
    }
  }

  /**
   * Text from a file, fit for a log message: control characters as '?', and cut after {@code max}
   * characters.
   */
  static String printable(String text, int max) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), max + 1));
    for (int i = 0; i < text.length() && i < max; i++) {
      char c = text.charAt(i);
      out.append(Character.isISOControl(c) ? '?' : c);
    }
    if (text.length() > max) {
      out.append('…');
    }
    return out.toString();
  }

  /** The exception's message without the path repeated, e.g. "Permission denied". */
  static String ioProblem(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /**
   * @param size the file's size, or -1 when only "more than allowed" is known (it grew)
   */
  private static ContainerMetadataException tooLarge(
      Path file, long size, int maxBytes, Reason reason) {
    String what = size >= 0 ? size + " bytes" : "grew";
    return new ContainerMetadataException(
        reason, file.toString(), what + ", over the limit of " + maxBytes + " bytes");
  }
}
