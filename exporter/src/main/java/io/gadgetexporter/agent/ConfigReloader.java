package io.gadgetexporter.agent;

import io.gadgetexporter.concurrent.DaemonThreads;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Applies the config file again when it changes on disk, or when asked (SIGHUP): the instances it
 * adds, removes and changes, through {@link Agent#reload}. A file that does not load, or whose
 * instances the gadgets reject, is refused whole with its reason; the running configuration stays.
 *
 * <p>The file's directory is watched rather than the file: editors replace files by renaming, and a
 * Kubernetes ConfigMap volume swaps a {@code ..data} symlink beside it. Any event there leads to a
 * read, and the content decides: the same bytes as last applied change nothing.
 */
public final class ConfigReloader implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(ConfigReloader.class.getName());
  private static final AttributeKey<String> TRIGGER = AttributeKey.stringKey("trigger");
  private static final AttributeKey<String> RESULT = AttributeKey.stringKey("result");

  /** Editors write in several steps; the last event of a burst is the one to act on. */
  private static final long SETTLE_MILLIS = 200;

  /** What set a reload off. */
  public enum Trigger {
    FILE,
    SIGHUP;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How a reload ended. */
  public enum Result {
    /** The file's instances are in force (some may have failed to start; see the agent). */
    APPLIED,
    /** The same content as the configuration in force: nothing to do. */
    UNCHANGED,
    /** The file does not load or its instances are invalid: the running configuration stays. */
    REJECTED;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Path file;
  private final Agent agent;
  private final Function<Path, AgentConfig> loader;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          DaemonThreads.named("config-reload"));
  private byte[] appliedDigest; // guarded by this
  private volatile String status;
  private boolean lastRejected; // guarded by this
  private volatile LongCounter reloads;
  private volatile WatchService watchService;
  private Thread watchThread;

  /**
   * @param file the file the agent was started with
   * @param loadedDigest {@link #digest} of the file taken before the agent loaded it: an edit made
   *     while the agent was starting is then a change, applied at the first look
   * @param loader reads and checks a file ({@link ConfigLoader#load(Path)} in the agent)
   */
  public ConfigReloader(
      Path file, byte[] loadedDigest, Agent agent, Function<Path, AgentConfig> loader) {
    this.file = file.toAbsolutePath();
    this.agent = agent;
    this.loader = loader;
    this.appliedDigest = loadedDigest;
    this.status = "loaded from " + file + " at start";
  }

  /** Counts reloads in {@code gadget_config_reloads_total{trigger, result}}. */
  public ConfigReloader registerMetrics(Meter meter) {
    reloads =
        meter
            .counterBuilder("gadget.config.reloads")
            .setDescription(
                "Config file reloads, by what set them off (file, sighup) and how they ended"
                    + " (applied, unchanged, rejected: the running configuration was kept)")
            .setUnit("{reload}")
            .build();
    return this;
  }

  /** The last reload's outcome, for {@code /readyz}. */
  public String status() {
    return status;
  }

  /** Watches the file's directory from now on. */
  public synchronized ConfigReloader watch() throws IOException {
    Path directory = file.getParent();
    watchService = FileSystems.getDefault().newWatchService();
    directory.register(
        watchService,
        StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    WatchService ws = watchService;
    watchThread = new Thread(() -> watchLoop(ws), "config-watch");
    watchThread.setDaemon(true);
    watchThread.start();
    logger.info("watching " + file + " for changes (SIGHUP also reloads it)");
    reloadLater(Trigger.FILE); // anything written while the agent was starting
    return this;
  }

  /** Reloads on the reload thread (a signal handler must not wait for gadgets to load). */
  public Future<Result> reloadLater(Trigger trigger) {
    return worker.submit(() -> reload(trigger));
  }

  /**
   * Reads the file and applies it if its content changed since the configuration in force. Never
   * throws for a bad file: that is a {@link Result#REJECTED}, logged and counted.
   */
  public synchronized Result reload(Trigger trigger) {
    Result result;
    byte[] digest = digest(file);
    if (digest != null && Arrays.equals(digest, appliedDigest)) {
      result = Result.UNCHANGED;
      if (lastRejected) {
        lastRejected = false;
        status = "the file is again the configuration in force (" + Instant.now() + ")";
      }
      if (trigger == Trigger.SIGHUP) {
        logger.info("SIGHUP: " + file + " has not changed since it was applied; nothing to do");
      }
    } else {
      result = apply(trigger, digest);
      lastRejected = result == Result.REJECTED;
    }
    LongCounter counter = reloads;
    if (counter != null) {
      counter.add(1, Attributes.of(TRIGGER, trigger.label(), RESULT, result.label()));
    }
    return result;
  }

  private Result apply(Trigger trigger, byte[] digest) {
    String when = Instant.now().toString();
    try {
      AgentConfig next = loader.apply(file);
      Agent.Reload done = agent.reload(next);
      appliedDigest = digest;
      String summary = done.summary();
      status =
          "reloaded at "
              + when
              + " ("
              + trigger.label()
              + "): "
              + summary
              + (done.needRestart().isEmpty()
                  ? ""
                  : "; changes to " + String.join(", ", done.needRestart()) + " need a restart");
      logger.info(file + " reloaded (" + trigger.label() + "): " + summary);
      return Result.APPLIED;
    } catch (ConfigException e) {
      // Not remembered as applied: fixing the file back to what runs is a change to look at.
      status =
          "reload rejected at "
              + when
              + " ("
              + trigger.label()
              + "), running the previous configuration: "
              + e.getMessage().replace('\n', ' ');
      logger.warning(
          file + " changed but was not applied; the running configuration stays:\n" + e.getMessage());
      return Result.REJECTED;
    } catch (RuntimeException e) {
      status = "reload failed at " + when + ": " + e;
      logger.log(Level.WARNING, "reloading " + file + " failed; the running configuration stays", e);
      return Result.REJECTED;
    }
  }

  private void watchLoop(WatchService ws) {
    try {
      while (true) {
        WatchKey key = ws.take();
        // Let the burst of events an editor or a ConfigMap swap makes settle, then look once.
        Thread.sleep(SETTLE_MILLIS);
        key.pollEvents();
        key.reset();
        WatchKey more;
        while ((more = ws.poll()) != null) {
          more.pollEvents();
          more.reset();
        }
        reloadLater(Trigger.FILE);
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    }
  }

  /** The file's SHA-256, or null when it cannot be read now (the loader then says why). */
  public static byte[] digest(Path file) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    } catch (IOException e) {
      return null; // unreadable now: the loader says why when it tries
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Not synchronized: a reload loading programs must not hold up the shutdown. */
  @Override
  public void close() {
    if (watchService != null) {
      try {
        watchService.close();
      } catch (IOException e) {
        // nothing left to do
      }
    }
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
