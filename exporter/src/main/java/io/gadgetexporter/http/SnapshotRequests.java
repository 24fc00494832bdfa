package io.gadgetexporter.http;

import io.gadgetexporter.columns.EventJson;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.SnapshotSource;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * {@code GET /api/v1/gadgets/NAME/snapshot[?limit=N]}: runs a snapshot gadget's iterators now and
 * answers with its rows, each in {@link EventJson}'s form (as the JSON lines and the live stream
 * write events).
 *
 * <ul>
 *   <li><b>No side effects.</b> The rows go to the answer only, never to the instance's outputs
 *       ({@link SnapshotSource#take}): asking changes no exported counter, log or stream.
 *   <li><b>Shared runs.</b> A request that comes while a run for the same instance is under way
 *       gets that run's rows instead of starting another: any number of clients cost one snapshot
 *       at a time per instance, and one run's rows in memory.
 *   <li><b>Bounded.</b> A run keeps the first {@link #MAX_LIMIT} rows (as JSON); an answer carries
 *       its request's {@code limit} first rows ({@link #DEFAULT_LIMIT} by default), {@code
 *       rows_total} the snapshot's number of rows and {@code truncated} whether some were left
 *       out.
 * </ul>
 */
final class SnapshotRequests {
  /** Rows in an answer when the request does not say: a node's processes fit, usually. */
  static final int DEFAULT_LIMIT = 1000;

  /**
   * The most rows an answer may carry, and a run keeps: a few MiB of JSON (a row is ~0.5 KiB). A
   * node with more processes or sockets is better watched with an interval and the outputs.
   */
  static final int MAX_LIMIT = 10_000;

  private final Executor runs;
  private final ConcurrentHashMap<SnapshotSource, CompletableFuture<Rows>> running =
      new ConcurrentHashMap<>();

  /**
   * @param runs where the iterators run (they block: not an event loop)
   */
  SnapshotRequests(Executor runs) {
    this.runs = runs;
  }

  /**
   * The status and body for a request on {@code name}, complete at once when the request is
   * refused, else when the snapshot it joined or started is taken.
   *
   * @param limit the {@code limit} query parameter; null when absent
   */
  CompletableFuture<Answer> answer(
      String name, String limit, Collection<GadgetInstance> instances) {
    Optional<GadgetInstance> found =
        instances.stream().filter(i -> i.name().equals(name)).findFirst();
    if (found.isEmpty()) {
      return done(
          404,
          GadgetsJson.unknownInstance("no gadget instance named '" + name + "'", instances)
              .encode());
    }
    GadgetInstance instance = found.get();
    if (instance.gadget().spec().snapshot() == null) {
      JsonArray snapshotting = new JsonArray();
      instances.stream()
          .filter(i -> i.gadget().spec().snapshot() != null)
          .forEach(i -> snapshotting.add(i.name()));
      return done(
          400,
          new JsonObject()
              .put(
                  "error",
                  "instance '"
                      + name
                      + "' runs "
                      + instance.gadget().name()
                      + ", which is not a snapshot gadget: only those take snapshots (its"
                      + " events: /api/v1/events?instance="
                      + name
                      + ")")
              .put("instances", snapshotting)
              .encode());
    }
    int rows;
    try {
      rows = limit(limit);
    } catch (IllegalArgumentException e) {
      return done(400, new JsonObject().put("error", e.getMessage()).encode());
    }
    SnapshotSource source = instance.snapshots().orElse(null);
    if (instance.state() != GadgetInstance.State.RUNNING || source == null) {
      String state = instance.state().name().toLowerCase(Locale.ROOT);
      return done(
          409,
          new JsonObject()
              .put(
                  "error",
                  "instance '"
                      + name
                      + "' is "
                      + state
                      + (instance.failure() != null ? ": " + instance.failure() : ""))
              .encode());
    }
    return shared(source)
        .handle(
            (taken, failure) ->
                failure == null
                    ? new Answer(200, body(instance, taken, rows))
                    : new Answer(
                        500,
                        new JsonObject()
                            .put("error", "snapshot failed: " + failure.getMessage())
                            .encode()));
  }

  /** The {@code limit} parameter's value, or the default. */
  private static int limit(String text) {
    if (text == null || text.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(text);
      if (n >= 0 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new IllegalArgumentException(
        "limit must be a number of rows from 0 to " + MAX_LIMIT + ", got '" + text + "'");
  }

  /** The run under way for {@code source}, or a new one; removed when it completes. */
  private CompletableFuture<Rows> shared(SnapshotSource source) {
    CompletableFuture<Rows> mine = new CompletableFuture<>();
    CompletableFuture<Rows> under = running.putIfAbsent(source, mine);
    if (under != null) {
      return under;
    }
    try {
      runs.execute(
          () -> {
            Collector collector = new Collector();
            try {
              SnapshotSource.Result r = source.take(collector);
              // Out of the map first: a request that comes now starts a fresh run.
              running.remove(source, mine);
              mine.complete(collector.rows(r));
            } catch (RuntimeException | Error e) {
              running.remove(source, mine);
              mine.completeExceptionally(e);
            }
          });
    } catch (RuntimeException e) { // the executor refused: the server is closing
      running.remove(source, mine);
      mine.completeExceptionally(e);
    }
    return mine;
  }

  private static String body(GadgetInstance instance, Rows taken, int limit) {
    SnapshotSource.Result r = taken.result();
    int carried = Math.min(limit, taken.ends().length);
    int end = carried == 0 ? 0 : taken.ends()[carried - 1];
    StringBuilder body = new StringBuilder(end + 320);
    body.append("{\"instance\":");
    EventJson.string(body, instance.name());
    body.append(",\"gadget\":");
    EventJson.string(body, instance.gadget().name());
    body.append(",\"time\":\"").append(r.time()).append('"');
    body.append(",\"duration_ms\":").append(r.durationNanos() / 1e6);
    body.append(",\"rows_total\":").append(r.rows());
    body.append(",\"limit\":").append(limit);
    body.append(",\"truncated\":").append(r.rows() > carried);
    body.append(",\"malformed\":").append(r.malformed());
    body.append(",\"namespaces\":").append(r.namespaces());
    body.append(",\"namespaces_skipped\":").append(r.namespacesSkipped());
    body.append(",\"rows\":[").append(taken.json(), 0, end).append("]}");
    return body.toString();
  }

  private static CompletableFuture<Answer> done(int status, String body) {
    return CompletableFuture.completedFuture(new Answer(status, body));
  }

  /** An HTTP status and a JSON body. */
  record Answer(int status, String body) {}

  /**
   * A run's first rows as JSON, separated by commas; {@code ends[i]} is where row {@code i} ends.
   */
  private record Rows(SnapshotSource.Result result, String json, int[] ends) {}

  /** Keeps the first {@link #MAX_LIMIT} rows of a run as JSON; the rest are only counted. */
  private static final class Collector implements EventSink {
    private final StringBuilder json = new StringBuilder(64 * 1024);
    private int[] ends = new int[256];
    private int kept;

    @Override
    public void accept(GadgetInstance instance, EventView event) {
      if (kept == MAX_LIMIT) {
        return;
      }
      if (kept > 0) {
        json.append(',');
      }
      EventJson.append(json, instance, event);
      if (kept == ends.length) {
        ends = Arrays.copyOf(ends, Math.min(MAX_LIMIT, kept * 2));
      }
      ends[kept++] = json.length();
    }

    Rows rows(SnapshotSource.Result result) {
      return new Rows(result, json.toString(), Arrays.copyOf(ends, kept));
    }
  }
}
