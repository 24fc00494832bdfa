package io.gadgetexporter.container;

import static io.gadgetexporter.container.MetadataProblems.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PidFileTest {

  @TempDir Path dir;

  @Test
  void readsContainerdsInitPid() throws IOException {
    // containerd writes the number alone; runc --pid-file writes it without a newline.
    Path file = Files.writeString(dir.resolve("init.pid"), "48213");

    assertThat(PidFile.read(file)).hasValue(48213);
  }

  @ParameterizedTest
  @ValueSource(strings = {"48213\n", "  48213  ", "\t48213\r\n", "0048213"})
  void trimsWhiteSpace(String content) throws IOException {
    Path file = Files.writeString(dir.resolve("init.pid"), content);

    assertThat(PidFile.read(file)).hasValue(48213);
  }

  @Test
  void aMissingFileIsEmpty() {
    assertThat(PidFile.read(dir.resolve("init.pid"))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0", "-1", "+5", "12 34", "0x10", "abc", "1.0", "99999999999", "4194305", "٣٤", "\u0000"
      })
  void rejectsWhatIsNotAPid(String content) throws IOException {
    Path file = Files.writeString(dir.resolve("init.pid"), content);

    assertProblem(Reason.MALFORMED_PID_FILE, () -> PidFile.read(file))
        .hasMessageStartingWith(file + ": '")
        .hasMessageEndingWith("' is not a process id");
  }

  @Test
  void rejectsAnEmptyFile() throws IOException {
    Path file = Files.writeString(dir.resolve("init.pid"), "\n");

    assertProblem(Reason.MALFORMED_PID_FILE, () -> PidFile.read(file))
        .hasMessage(file + ": empty");
  }

  @Test
  void rejectsALargeFile() throws IOException {
    Path file = Files.writeString(dir.resolve("init.pid"), "1".repeat(100));

    assertProblem(Reason.MALFORMED_PID_FILE, () -> PidFile.read(file))
        .hasMessage(file + ": 100 bytes, over the limit of 64 bytes");
  }

  @Test
  void rejectsBinaryContent() throws IOException {
    Path file = Files.write(dir.resolve("init.pid"), new byte[] {(byte) 0xff, (byte) 0xfe, '1'});

    assertProblem(Reason.MALFORMED_PID_FILE, () -> PidFile.read(file))
        .hasMessage(file + ": not UTF-8 text");
  }

  @Test
  void theLargestPidLinuxHandsOut() throws IOException {
    Path file = Files.writeString(dir.resolve("init.pid"), "4194304");

    assertThat(PidFile.read(file)).hasValue(4194304);
  }
}
