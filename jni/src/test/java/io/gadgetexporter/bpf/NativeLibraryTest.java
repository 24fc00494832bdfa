package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Extraction and loading, including the noexec case on a real {@code mount -o noexec} tmpfs, in
 * this JVM (the package-private entry point) and in child JVMs configured by property and by
 * environment variable as users would.
 */
class NativeLibraryTest {
  private static Path noexec;

  @BeforeAll
  static void mountNoexecTmpfs() throws Exception {
    TestSupport.requireRoot();
    noexec = Files.createTempDirectory("gx-noexec-");
    assertThat(
            run(
                    List.of(
                        "mount",
                        "-t",
                        "tmpfs",
                        "-o",
                        "noexec,size=16m",
                        "tmpfs",
                        noexec.toString()),
                    Map.of())
                .exit)
        .as("mount a noexec tmpfs")
        .isZero();
  }

  @AfterAll
  static void unmount() throws Exception {
    if (noexec != null) {
      // Lazy: glibc keeps a read-only mapping of the library whose dlopen failed in this JVM,
      // which pins the mount until the JVM exits; detached now, it is freed then.
      assertThat(run(List.of("umount", "-l", noexec.toString()), Map.of()).exit).isZero();
      Files.deleteIfExists(noexec);
    }
  }

  @Test
  void loadIsIdempotent() {
    NativeLibrary.load();
    NativeLibrary.load();
    assertThat(NativeLibrary.isLoaded()).isTrue();
    assertThat(NativeLibrary.resourcePath())
        .isEqualTo("META-INF/native/linux-x86_64/libgadgetexporter.so");
  }

  @Test
  void aNoexecDirectoryGivesAnErrorThatSaysWhatToDo() throws Exception {
    assertThat(NativeLibrary.noexecMountOf(noexec)).contains(noexec.toRealPath().toString());
    assertThat(NativeLibrary.noexecMountOf(Path.of("/proc"))).isEmpty();
    assertThatThrownBy(() -> NativeLibrary.extractAndLoad(noexec))
        .isInstanceOf(UnsatisfiedLinkError.class)
        .hasMessageContaining("mounted noexec")
        .hasMessageContaining("-D" + NativeLibrary.DIRECTORY_PROPERTY)
        .hasMessageContaining(NativeLibrary.DIRECTORY_ENV);
    try (Stream<Path> left = Files.list(noexec)) {
      assertThat(left).as("the extracted file is deleted").isEmpty();
    }
  }

  @Test
  void aChildJvmPointedAtANoexecDirectoryByPropertyFailsClearly() throws Exception {
    Result r = java(List.of("-D" + NativeLibrary.DIRECTORY_PROPERTY + "=" + noexec), Map.of());
    assertThat(r.exit).as(r.output).isEqualTo(3);
    assertThat(r.output).contains("noexec").contains(NativeLibrary.DIRECTORY_PROPERTY);
  }

  @Test
  void aChildJvmPointedAtANoexecDirectoryByEnvironmentFailsClearly() throws Exception {
    Result r = java(List.of(), Map.of(NativeLibrary.DIRECTORY_ENV, noexec.toString()));
    assertThat(r.exit).as(r.output).isEqualTo(3);
    assertThat(r.output).contains("noexec");
  }

  @Test
  void aChildJvmLoadsFromAConfiguredDirectoryAndLeavesNothingBehind() throws Exception {
    Path dir = Files.createTempDirectory("gx-native-");
    try {
      Result r = java(List.of("-D" + NativeLibrary.DIRECTORY_PROPERTY + "=" + dir), Map.of());
      assertThat(r.exit).as(r.output).isZero();
      assertThat(r.output).contains("loaded libbpf v1.1");
      try (Stream<Path> left = Files.list(dir)) {
        assertThat(left).isEmpty();
      }
    } finally {
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void thePropertyWinsOverTheEnvironment() {
    String before = System.getProperty(NativeLibrary.DIRECTORY_PROPERTY);
    try {
      System.setProperty(NativeLibrary.DIRECTORY_PROPERTY, "/some/where");
      assertThat(NativeLibrary.extractionDirectory()).isEqualTo(Path.of("/some/where"));
      System.clearProperty(NativeLibrary.DIRECTORY_PROPERTY);
      String env = System.getenv(NativeLibrary.DIRECTORY_ENV);
      assertThat(NativeLibrary.extractionDirectory())
          .isEqualTo(Path.of(env != null ? env : System.getProperty("java.io.tmpdir")));
    } finally {
      if (before != null) {
        System.setProperty(NativeLibrary.DIRECTORY_PROPERTY, before);
      }
    }
  }

  private record Result(int exit, String output) {}

  private static Result java(List<String> jvmArgs, Map<String, String> env) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(NativeLibraryMain.class.getName());
    return run(cmd, env);
  }

  private static Result run(List<String> cmd, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove(NativeLibrary.DIRECTORY_ENV);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }
}
