package io.gadgetexporter.container;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What went wrong while discovering containers — a malformed {@code config.json}, a missing pid
 * file, a cgroup path with no recognisable id — counted by reason and logged once per reason (the
 * first occurrence explains; the count, exported as a metric, tells how often). Never fatal: the
 * container is kept with what could be learned, or skipped.
 */
public final class DiscoveryProblems {
  private static final Logger logger = Logger.getLogger(DiscoveryProblems.class.getName());

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  /**
   * @param reason a short snake_case reason, a metric label value ({@code malformed_config_json})
   * @param message what happened, naming the file or process
   */
  public void report(String reason, String message) {
    LongAdder count = counts.computeIfAbsent(reason, r -> new LongAdder());
    count.increment();
    if (count.sum() == 1) {
      logger.warning(
          message + " [" + reason + "; counted in gadget_container_discovery_problems_total,"
              + " further ones are not logged]");
    } else if (logger.isLoggable(Level.FINE)) {
      logger.fine(message + " [" + reason + "]");
    }
  }

  public long count(String reason) {
    LongAdder c = counts.get(reason);
    return c == null ? 0 : c.sum();
  }

  /** Every reason seen so far with its count. */
  public Map<String, Long> counts() {
    Map<String, Long> snapshot = new TreeMap<>();
    counts.forEach((r, c) -> snapshot.put(r, c.sum()));
    return snapshot;
  }
}
