package io.gadgetexporter.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent jar run as a separate process, the way a user runs it. Its standard error goes to a
 * file: reading a child's pipe while the child exits loses the last lines (the JDK closes the pipe
 * under the reader), and the last lines are the shutdown messages a test checks.
 */
final class AgentProcess implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("metrics at http://[^ ]+:(\\d+)/metrics");

  final Process process;
  private final Path stderrFile;
  private final HttpClient http = HttpClient.newHttpClient();

  private AgentProcess(Process process, Path stderrFile) {
    this.process = process;
    this.stderrFile = stderrFile;
  }

  static Path jar() {
    return Path.of(System.getProperty("agent.jar", "target/gadget-exporter.jar"));
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static List<String> javaCommand(String... args) {
    List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar().toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static AgentProcess start(List<String> command) throws IOException {
    Path stderr = Files.createTempFile("agent-stderr", ".log");
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(stderr.toFile());
    return new AgentProcess(pb.start(), stderr);
  }

  /** Waits for the "ready" log line and returns the HTTP port. */
  int awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher m = READY.matcher(stderr());
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      if (!process.isAlive()) {
        throw new AssertionError("agent exited with " + process.exitValue() + ":\n" + stderr());
      }
      Thread.sleep(50);
    }
    throw new AssertionError("agent not ready within " + timeout + ":\n" + stderr());
  }

  String get(int port, String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + "\n" + r.body();
  }

  /** Waits for the process to end by itself; returns its exit code. */
  int awaitExit(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("agent did not exit within " + timeout + ":\n" + stderr());
    }
    return process.exitValue();
  }

  String stderr() throws IOException {
    return Files.readString(stderrFile);
  }

  @Override
  public void close() throws IOException {
    process.destroyForcibly();
    Files.deleteIfExists(stderrFile);
  }
}
