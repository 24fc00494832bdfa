package io.gadgetexporter.export.testing;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Prometheus server (the Debian package's {@code /usr/bin/prometheus}) run as a child
 * process, scraping one target every second, so tests check what Prometheus itself makes of the
 * agent's {@code /metrics}: names, labels, types and values as PromQL sees them.
 *
 * <p>Each server has its own configuration and TSDB in a temporary directory, listens on a free
 * port of 127.0.0.1 and logs to a file whose tail goes into failure messages. {@link #close()}
 * kills it and deletes the directory; a shutdown hook kills it if a test run dies first.
 *
 * <p>Timing: Prometheus 2.42 hands discovered targets to its scrape manager at most every 5 s, so
 * the first scrape comes about 5 s after the start (then every second): give awaits 15 s or more.
 * {@link #awaitTargetUp(Duration)} waits for a first successful scrape.
 *
 * <p>Without the binary the tests fail, never skip (the project's rule): they say to run {@code
 * scripts/install-packages.sh test}.
 */
public final class PrometheusServer implements AutoCloseable {
  public static final Path DEFAULT_BINARY = Path.of("/usr/bin/prometheus");

  private static final Duration POLL = Duration.ofMillis(200);
  private static final int LOG_TAIL_LINES = 30;

  /** One element of an instant vector: the series' labels (with {@code __name__}) and value. */
  public record Sample(Map<String, String> labels, double value) {
    @Override
    public String toString() {
      return labels + " " + value;
    }
  }

  /**
   * A scrape target as Prometheus reports it: health {@code up}, {@code down} or {@code unknown}.
   */
  public record Target(String scrapeUrl, String health, String lastError) {
    @Override
    public String toString() {
      return scrapeUrl + " " + health + (lastError.isEmpty() ? "" : " (" + lastError + ")");
    }
  }

  private final Path dir;
  private final Process process;
  private final Thread killer;
  private final String url;
  private final String target;
  private final HttpClient http = HttpClient.newHttpClient();

  private PrometheusServer(Path dir, Process process, Thread killer, int port, String target) {
    this.dir = dir;
    this.process = process;
    this.killer = killer;
    this.url = "http://127.0.0.1:" + port;
    this.target = target;
  }

  /** A server to scrape {@code target} ({@code host:port}); configure, then {@code start()}. */
  public static Builder scraping(String target) {
    return new Builder(target);
  }

  /** The scrape configuration. */
  public static final class Builder {
    private final String target;
    private String metricsPath = "/metrics";
    private String scheme = "http";
    private String bearerToken;
    private Duration scrapeInterval = Duration.ofSeconds(1);
    private Path binary = DEFAULT_BINARY;
    private Duration startTimeout = Duration.ofSeconds(30);

    private Builder(String target) {
      this.target = Objects.requireNonNull(target);
    }

    public Builder metricsPath(String metricsPath) {
      this.metricsPath = metricsPath;
      return this;
    }

    /** Scrapes over https; the certificate is not verified (tests use throw-away ones). */
    public Builder https() {
      this.scheme = "https";
      return this;
    }

    /** Sends {@code Authorization: Bearer <token>} with each scrape. */
    public Builder bearerToken(String token) {
      this.bearerToken = token;
      return this;
    }

    /** Scrape and rule evaluation interval (1 s by default). */
    public Builder scrapeInterval(Duration interval) {
      this.scrapeInterval = interval;
      return this;
    }

    /** Another Prometheus binary (the tests of this class use a missing one). */
    public Builder binary(Path binary) {
      this.binary = binary;
      return this;
    }

    /** Writes the configuration, starts Prometheus and waits until it is ready. */
    public PrometheusServer start() {
      if (!Files.isExecutable(binary)) {
        throw new AssertionError(
            "Prometheus is not installed ("
                + binary
                + " is missing): run scripts/install-packages.sh test, which installs the"
                + " Debian package prometheus");
      }
      Path dir;
      try {
        dir = Files.createTempDirectory("prometheus-test");
        Files.writeString(dir.resolve("prometheus.yml"), config());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot prepare a Prometheus directory", e);
      }
      // The port is free when picked, not necessarily when Prometheus binds it: try again then.
      AssertionError failure = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        try {
          return PrometheusServer.start(this, dir, freePort());
        } catch (AssertionError e) {
          if (!String.valueOf(e.getMessage()).contains("address already in use")) {
            deleteTree(dir);
            throw e;
          }
          failure = e;
        }
      }
      deleteTree(dir);
      throw failure;
    }

    /** prometheus.yml; strings are written as JSON strings, which YAML reads as they are. */
    String config() {
      String interval = scrapeInterval.toMillis() + "ms";
      StringBuilder yaml = new StringBuilder();
      yaml.append("global:\n")
          .append("  scrape_interval: ")
          .append(interval)
          .append('\n')
          .append("  scrape_timeout: ")
          .append(interval)
          .append('\n')
          .append("  evaluation_interval: ")
          .append(interval)
          .append('\n')
          .append("scrape_configs:\n")
          .append("  - job_name: agent\n")
          .append("    scheme: ")
          .append(scheme)
          .append('\n')
          .append("    metrics_path: ")
          .append(Json.encode(metricsPath))
          .append('\n');
      if (scheme.equals("https")) {
        yaml.append("    tls_config:\n      insecure_skip_verify: true\n");
      }
      if (bearerToken != null) {
        yaml.append("    authorization:\n      type: Bearer\n      credentials: ")
            .append(Json.encode(bearerToken))
            .append('\n');
      }
      yaml.append("    static_configs:\n      - targets: [")
          .append(Json.encode(target))
          .append("]\n");
      return yaml.toString();
    }
  }

  private static PrometheusServer start(Builder builder, Path dir, int port) {
    Path log = dir.resolve("prometheus.log");
    ProcessBuilder command =
        new ProcessBuilder(
                builder.binary.toString(),
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Process process;
    try {
      process = command.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + builder.binary, e);
    }
    Thread killer = new Thread(() -> kill(process), "kill prometheus " + process.pid());
    Runtime.getRuntime().addShutdownHook(killer);
    PrometheusServer server = new PrometheusServer(dir, process, killer, port, builder.target);
    try {
      server.awaitReady(builder.startTimeout);
    } catch (RuntimeException | AssertionError e) {
      server.stopProcess();
      throw e;
    }
    return server;
  }

  /** The base URL of the web UI and HTTP API. */
  public String url() {
    return url;
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Runs an instant query ({@code /api/v1/query}); a scalar result comes back as one sample without
   * labels.
   *
   * @throws IllegalArgumentException if Prometheus refuses the query (e.g. a PromQL syntax error)
   *     or the result is not an instant vector or a scalar
   */
  public List<Sample> query(String promql) {
    JsonObject answer =
        get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    if (!"success".equals(answer.getString("status"))) {
      throw new IllegalArgumentException(
          "Prometheus refused `"
              + promql
              + "`: "
              + answer.getString("errorType")
              + ": "
              + answer.getString("error"));
    }
    JsonObject data = answer.getJsonObject("data");
    String type = data.getString("resultType");
    switch (type) {
      case "vector" -> {
        List<Sample> samples = new ArrayList<>();
        JsonArray result = data.getJsonArray("result");
        for (int i = 0; i < result.size(); i++) {
          JsonObject series = result.getJsonObject(i);
          Map<String, String> labels = new TreeMap<>();
          series
              .getJsonObject("metric")
              .forEach(e -> labels.put(e.getKey(), (String) e.getValue()));
          samples.add(
              new Sample(
                  Collections.unmodifiableMap(labels), number(series.getJsonArray("value"))));
        }
        return List.copyOf(samples);
      }
      case "scalar" -> {
        return List.of(new Sample(Map.of(), number(data.getJsonArray("result"))));
      }
      default ->
          throw new IllegalArgumentException(
              "`" + promql + "` gives a " + type + ", not an instant vector");
    }
  }

  /**
   * Polls {@code promql} until its result satisfies {@code condition}, and returns that result.
   *
   * @throws AssertionError on timeout, with the last result, the target's health and last scrape
   *     error, and the tail of Prometheus' log
   */
  public List<Sample> awaitQuery(
      String promql, Predicate<? super List<Sample>> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Sample> result = query(promql);
      if (condition.test(result)) {
        return result;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "`"
                + promql
                + "` did not give the expected result within "
                + timeout.toMillis()
                + " ms; last result: "
                + result
                + "\n"
                + describe());
      }
      sleep(POLL);
    }
  }

  /** Waits for the first successful scrape of the target. */
  public void awaitTargetUp(Duration timeout) {
    awaitQuery("up", r -> r.size() == 1 && r.get(0).value() == 1, timeout);
  }

  /** The scrape targets and their health, from {@code /api/v1/targets}. */
  public List<Target> targets() {
    JsonArray active = get("/api/v1/targets").getJsonObject("data").getJsonArray("activeTargets");
    List<Target> targets = new ArrayList<>();
    for (int i = 0; i < active.size(); i++) {
      JsonObject t = active.getJsonObject(i);
      targets.add(
          new Target(
              t.getString("scrapeUrl"), t.getString("health"), t.getString("lastError", "")));
    }
    return targets;
  }

  /** For failure messages: the server, its targets' health and the tail of its log. */
  public String describe() {
    String targets;
    try {
      List<Target> list = targets();
      targets =
          list.isEmpty()
              ? "none yet (Prometheus 2.42 applies new targets about 5 s after it starts)"
              : list.toString();
    } catch (RuntimeException e) {
      targets = "(cannot list: " + e + ")";
    }
    return "Prometheus "
        + url
        + " (pid "
        + process.pid()
        + (process.isAlive() ? "" : ", exited " + process.exitValue())
        + ") scraping "
        + target
        + ", targets: "
        + targets
        + "\n--- prometheus log, last lines:\n"
        + logTail();
  }

  /** The last lines of Prometheus' output. */
  public String logTail() {
    return tail(dir.resolve("prometheus.log"));
  }

  /** Kills Prometheus and deletes its directory. */
  @Override
  public void close() {
    stopProcess();
    deleteTree(dir);
  }

  private void stopProcess() {
    kill(process);
    try {
      Runtime.getRuntime().removeShutdownHook(killer);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs anyway.
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "Prometheus exited with "
                + process.exitValue()
                + " before it was ready\n--- prometheus log, last lines:\n"
                + logTail());
      }
      try {
        HttpResponse<Void> ready =
            http.send(
                HttpRequest.newBuilder(URI.create(url + "/-/ready")).build(),
                HttpResponse.BodyHandlers.discarding());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for Prometheus", e);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "Prometheus not ready within " + timeout.toMillis() + " ms\n" + describe());
      }
      sleep(Duration.ofMillis(50));
    }
  }

  private JsonObject get(String pathAndQuery) {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(url + pathAndQuery))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      // The API answers errors (400, 422, 503) with a JSON body saying why.
      return new JsonObject(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + url + pathAndQuery + " failed\n" + logTail(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (io.vertx.core.json.DecodeException e) {
      throw new IllegalStateException("GET " + url + pathAndQuery + ": not JSON", e);
    }
  }

  /** A sample value: [timestamp, "value"], where the value may be NaN, +Inf or -Inf. */
  private static double number(JsonArray value) {
    String text = value.getString(1);
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(text); // "NaN" included
    };
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroy(); // SIGTERM: Prometheus shuts down cleanly in well under a second
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()).stream()
          .collect(Collectors.joining("\n"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temporary directory left behind is harmless.
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
