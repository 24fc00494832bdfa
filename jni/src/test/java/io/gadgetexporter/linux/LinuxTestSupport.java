package io.gadgetexporter.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Shared helpers: root check, a copy of /bin/true to mark, processes started off-thread. */
final class LinuxTestSupport {
  private LinuxTestSupport() {}

  /**
   * fanotify permission events need CAP_SYS_ADMIN and /proc/<pid>/mem of another process needs
   * ptrace access. Not being root is a failure, not a reason to skip: CI runs these as root, and a
   * skipped kernel test proves nothing.
   */
  static void requireRoot() {
    assertThat(uid())
        .as(
            "the io.gadgetexporter.linux tests use fanotify and /proc/<pid>/mem and must run as"
                + " root")
        .isZero();
  }

  static int uid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(line.split("\\s+")[2]); // effective uid
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no Uid line in /proc/self/status");
  }

  /**
   * A private copy of /bin/true named {@code name} in {@code dir}: a fresh inode, so a mark on it
   * pauses only the execs of this test (and /bin/true takes and ignores any arguments).
   */
  static Path trueCopy(Path dir, String name) {
    try {
      Path copy = dir.resolve(name);
      Files.copy(Path.of("/bin/true"), copy, StandardCopyOption.COPY_ATTRIBUTES);
      return copy.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts {@code builder} on a thread of its own: ProcessBuilder.start() returns only once the
   * child's execve has succeeded or failed, and a marked exec waits for our answer.
   */
  static CompletableFuture<Process> startAsync(ProcessBuilder builder) {
    CompletableFuture<Process> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                f.complete(builder.start());
              } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
              }
            },
            "start " + builder.command().get(0));
    t.setDaemon(true);
    t.start();
    return f;
  }

  /** A program of src/test/c, built by `make test-bpf` into the test classes' bin/. */
  static Path testBinary(String name) {
    try {
      URL url = LinuxTestSupport.class.getResource("/bin/" + name);
      assertThat(url).as("/bin/" + name + " (built by make test-bpf)").isNotNull();
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Polls until {@code count} requests arrived, or fails after 10 s. */
  static List<Fanotify.ExecRequest> awaitRequests(Fanotify fanotify, int count) {
    List<Fanotify.ExecRequest> requests = new ArrayList<>();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (requests.size() < count && System.nanoTime() < deadline) {
      fanotify.poll(100, requests);
    }
    assertThat(requests).as("exec requests within 10 s").hasSize(count);
    return requests;
  }

  static Fanotify.ExecRequest awaitRequest(Fanotify fanotify) {
    return awaitRequests(fanotify, 1).get(0);
  }

  /** The cause of a failed start: ProcessBuilder.start()'s IOException. */
  static Throwable startFailure(CompletableFuture<Process> started) {
    try {
      started.join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("the process started: " + started.join());
  }
}
