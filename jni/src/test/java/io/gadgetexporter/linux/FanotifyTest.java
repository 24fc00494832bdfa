package io.gadgetexporter.linux;

import static io.gadgetexporter.linux.LinuxTestSupport.awaitRequest;
import static io.gadgetexporter.linux.LinuxTestSupport.awaitRequests;
import static io.gadgetexporter.linux.LinuxTestSupport.startAsync;
import static io.gadgetexporter.linux.LinuxTestSupport.startFailure;
import static io.gadgetexporter.linux.LinuxTestSupport.trueCopy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.linux.Fanotify.ExecRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exec permission against the real kernel: a private copy of /bin/true is marked, started by
 * ProcessBuilder on another thread (start() returns only after the child's execve), and answered.
 * The pid ProcessBuilder reports is the child that calls execve (jspawnhelper, then the program).
 */
class FanotifyTest {
  static final List<String> RUNC_ARGS =
      List.of("--root", "/run/x", "create", "--bundle", "/b", "--pid-file", "/p", "id1");

  @TempDir Path dir;

  @BeforeAll
  static void root() {
    LinuxTestSupport.requireRoot();
  }

  static List<String> command(Path program, List<String> args) {
    List<String> c = new ArrayList<>();
    c.add(program.toString());
    c.addAll(args);
    return c;
  }

  static int exitCode(CompletableFuture<Process> started) throws Exception {
    Process p = started.get(10, TimeUnit.SECONDS);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("process exits").isTrue();
    return p.exitValue();
  }

  @Test
  void allowLetsTheExecRunAndTheArgvIsReadableWhileItWaits() throws Exception {
    Path runc = trueCopy(dir, "runc");
    List<String> argv = command(runc, RUNC_ARGS);
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started = startAsync(new ProcessBuilder(argv));

      ExecRequest request = awaitRequest(fanotify);
      assertThat(request.file()).isEqualTo(runc);
      assertThat(BlockedExec.arguments(request.pid())).contains(argv);
      assertThat(started).as("the exec waits for the answer").isNotDone();

      fanotify.respond(request, true);
      Process p = started.get(10, TimeUnit.SECONDS);
      assertThat(p.pid()).isEqualTo(request.pid());
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
      assertThat(fanotify.overflows()).isZero();
    }
  }

  @Test
  void denyFailsTheExecWithEperm() {
    Path runc = trueCopy(dir, "runc");
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started = startAsync(new ProcessBuilder(command(runc, RUNC_ARGS)));

      fanotify.respond(awaitRequest(fanotify), false);
      // The child's execve returns EPERM; the JDK's spawn helper reports it back to start().
      assertThat(startFailure(started))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(runc.toString())
          .hasMessageContaining("error=1, Operation not permitted");
    }
  }

  @Test
  void severalExecsWaitSideBySide() throws Exception {
    Path runc = trueCopy(dir, "runc");
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      List<CompletableFuture<Process>> started =
          IntStream.range(0, 3)
              .mapToObj(i -> startAsync(new ProcessBuilder(runc.toString(), "start", "id" + i)))
              .toList();

      List<ExecRequest> requests = awaitRequests(fanotify, 3);
      assertThat(
              requests.stream()
                  .map(r -> BlockedExec.arguments(r.pid()).orElseThrow().get(2))
                  .collect(Collectors.toSet()))
          .containsExactlyInAnyOrder("id0", "id1", "id2");
      for (ExecRequest r : requests) {
        fanotify.respond(r, true);
      }
      for (CompletableFuture<Process> s : started) {
        assertThat(exitCode(s)).isZero();
      }
    }
  }

  @Test
  void anExecFromASecondThreadIsFoundAmongTheThreads() throws Exception {
    Path runc = trueCopy(dir, "runc");
    List<String> argv = command(runc, List.of("state", "id1"));
    List<String> launcher = new ArrayList<>(argv);
    launcher.add(0, LinuxTestSupport.testBinary("exec_from_thread").toString());
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      // exec_from_thread itself is not marked: start() returns once it runs.
      Process p = new ProcessBuilder(launcher).start();

      ExecRequest request = awaitRequest(fanotify);
      assertThat(request.pid()).as("fanotify reports the process").isEqualTo(p.pid());
      assertThat(Files.readString(Path.of("/proc/" + p.pid() + "/syscall")))
          .as("the main thread is not the one in execve")
          .doesNotStartWith("59 ")
          .doesNotStartWith("221 ");
      assertThat(BlockedExec.arguments(request.pid())).contains(argv);

      fanotify.respond(request, true);
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("the exec replaced the whole process").isZero();
    }
  }

  @Test
  void theWorkingDirectoryResolvesARelativeBundle() throws Exception {
    Path runc = trueCopy(dir, "runc");
    Path work = Files.createDirectories(dir.resolve("work"));
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started =
          startAsync(
              new ProcessBuilder(runc.toString(), "create", "--bundle", "bundle", "id1")
                  .directory(work.toFile()));

      ExecRequest request = awaitRequest(fanotify);
      List<String> argv = BlockedExec.arguments(request.pid()).orElseThrow();
      Optional<Path> cwd = BlockedExec.workingDirectory(request.pid());
      assertThat(cwd).contains(work.toRealPath());
      assertThat(cwd.orElseThrow().resolve(argv.get(argv.indexOf("--bundle") + 1)))
          .isEqualTo(work.toRealPath().resolve("bundle"));

      fanotify.respond(request, true);
      assertThat(exitCode(started)).isZero();
    }
  }

  @Test
  void pollWithNothingPendingReturnsZeroAfterTheTimeout() {
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      List<ExecRequest> into = new ArrayList<>();
      long start = System.nanoTime();
      assertThat(fanotify.poll(200, into)).isZero();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(ms).isBetween(190L, 2_000L);
      assertThat(into).isEmpty();
      assertThat(fanotify.poll(0, into)).isZero();
    }
  }

  @Test
  void wakeupEndsALongPollAtOnce() throws Exception {
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      List<ExecRequest> into = new ArrayList<>();
      CompletableFuture<Long> polled =
          CompletableFuture.supplyAsync(
              () -> {
                long start = System.nanoTime();
                assertThat(fanotify.poll(30_000, into)).isZero();
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
              });
      Thread.sleep(200);
      fanotify.wakeup();
      assertThat(polled.get(5, TimeUnit.SECONDS)).isLessThan(5_000L);
      // The eventfd was reset: the next poll waits again.
      long start = System.nanoTime();
      assertThat(fanotify.poll(100, into)).isZero();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThan(90L);
    }
  }

  @Test
  void closeWakesAPollInProgress() throws Exception {
    Fanotify fanotify = Fanotify.forExecPermission();
    CompletableFuture<Integer> polled =
        CompletableFuture.supplyAsync(() -> fanotify.poll(30_000, new ArrayList<>()));
    Thread.sleep(200);
    fanotify.close();
    assertThat(polled.get(5, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void closeLetsAnUnansweredExecRun() throws Exception {
    Path runc = trueCopy(dir, "runc");
    Fanotify fanotify = Fanotify.forExecPermission();
    CompletableFuture<Process> started;
    ExecRequest request;
    try {
      fanotify.markExecutable(runc);
      started = startAsync(new ProcessBuilder(command(runc, RUNC_ARGS)));
      request = awaitRequest(fanotify);
      Thread.sleep(100);
      assertThat(started).as("the exec waits for the answer").isNotDone();
    } finally {
      fanotify.close();
    }
    assertThat(exitCode(started)).isZero();
    assertThat(request.isAnswered()).as("close() took the request's fd").isTrue();
    assertThatThrownBy(request::file).isInstanceOf(IllegalStateException.class);
    fanotify.respond(request, false); // too late: nothing to do, nothing thrown
  }

  @Test
  void closeLetsAnExecRunWhoseEventWasNeverRead() throws Exception {
    Path runc = trueCopy(dir, "runc");
    List<String> argv = command(runc, List.of("never", "read"));
    CompletableFuture<Process> started;
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      started = startAsync(new ProcessBuilder(argv));
      // Without polling: wait until a child of ours is inside execve of the marked file.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (ProcessHandle.current()
          .children()
          .noneMatch(c -> BlockedExec.arguments((int) c.pid()).equals(Optional.of(argv)))) {
        assertThat(System.nanoTime())
            .as("a child blocked in execve within 10 s")
            .isLessThan(deadline);
        Thread.sleep(10);
      }
      assertThat(started).isNotDone();
    }
    assertThat(exitCode(started)).isZero();
  }

  @Test
  void respondTwiceIsANoOp() throws Exception {
    Path runc = trueCopy(dir, "runc");
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started = startAsync(new ProcessBuilder(runc.toString()));
      ExecRequest request = awaitRequest(fanotify);
      assertThat(request.isAnswered()).isFalse();

      fanotify.respond(request, true);
      assertThat(request.isAnswered()).isTrue();
      fanotify.respond(request, false); // no effect: the first answer stands
      assertThatThrownBy(request::file)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("answered");
      assertThat(exitCode(started)).isZero();
    }
  }

  @Test
  void respondForAKilledProcessDoesNotThrow() throws Exception {
    Path runc = trueCopy(dir, "runc");
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started = startAsync(new ProcessBuilder(runc.toString()));
      ExecRequest request = awaitRequest(fanotify);

      ProcessHandle child = ProcessHandle.of(request.pid()).orElseThrow();
      assertThat(child.destroyForcibly()).isTrue();
      // onExit can complete while the JDK's reaper has not yet collected it: a zombie still
      // "is alive" to ProcessHandle. Dead means gone or a zombie.
      assertThat(isDead(request.pid(), 10_000)).as("pid %d killed", request.pid()).isTrue();

      fanotify.respond(request, true);
      // The JDK's spawn helper died before its exec could report anything: start() succeeds and
      // the process is the killed one.
      assertThat(exitCode(started)).isEqualTo(128 + 9);
    }
  }

  @Test
  void aRequestOfAnotherInstanceIsRejected() throws Exception {
    Path runc = trueCopy(dir, "runc");
    try (Fanotify fanotify = Fanotify.forExecPermission();
        Fanotify other = Fanotify.forExecPermission()) {
      fanotify.markExecutable(runc);
      CompletableFuture<Process> started = startAsync(new ProcessBuilder(runc.toString()));
      ExecRequest request = awaitRequest(fanotify);
      assertThatThrownBy(() -> other.respond(request, true))
          .isInstanceOf(IllegalArgumentException.class);
      fanotify.respond(request, true);
      assertThat(exitCode(started)).isZero();
    }
  }

  @Test
  void markingAMissingFileNamesItAndTheErrno() {
    Path missing = dir.resolve("no-such-runc");
    try (Fanotify fanotify = Fanotify.forExecPermission()) {
      assertThatThrownBy(() -> fanotify.markExecutable(missing))
          .isInstanceOfSatisfying(
              SystemCallException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT))
          .hasMessage("fanotify_mark(" + missing + "): No such file or directory (ENOENT)");
    }
  }

  @Test
  void aClosedInstanceRefusesWorkAndClosesOnce() {
    Fanotify fanotify = Fanotify.forExecPermission();
    fanotify.close();
    fanotify.close();
    fanotify.wakeup();
    assertThat(fanotify.isClosed()).isTrue();
    assertThatThrownBy(() -> fanotify.poll(0, new ArrayList<>()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> fanotify.markExecutable(Path.of("/bin/true")))
        .isInstanceOf(IllegalStateException.class);
  }

  /** Whether the process is gone or a zombie within {@code timeoutMs}. */
  private static boolean isDead(long pid, long timeoutMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    Path stat = Path.of("/proc/" + pid + "/stat");
    while (System.nanoTime() < deadline) {
      try {
        String text = Files.readString(stat);
        // The state follows the ")" that closes the command name.
        if (text.charAt(text.lastIndexOf(')') + 2) == 'Z') {
          return true;
        }
      } catch (IOException gone) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }
}
