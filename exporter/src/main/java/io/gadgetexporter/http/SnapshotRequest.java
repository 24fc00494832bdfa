package io.gadgetexporter.http;

import io.gadgetexporter.columns.EventJson;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.SnapshotSource;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code GET /api/v1/gadgets/NAME/snapshot}: runs a snapshot gadget's iterators now and answers
 * with its rows, each in {@link EventJson}'s form (as the JSON lines and the live stream write
 * events). The rows also go to the instance's outputs, like those of its interval: whoever asks, a
 * snapshot is a snapshot.
 */
final class SnapshotRequest {
  private SnapshotRequest() {}

  /**
   * The status and body for a request on {@code name}. Runs the iterators: not on an event loop.
   */
  static Answer answer(String name, Collection<GadgetInstance> instances) {
    Optional<GadgetInstance> found =
        instances.stream().filter(i -> i.name().equals(name)).findFirst();
    if (found.isEmpty()) {
      return new Answer(
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
      return new Answer(
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
    SnapshotSource source = instance.snapshots().orElse(null);
    if (instance.state() != GadgetInstance.State.RUNNING || source == null) {
      String state = instance.state().name().toLowerCase(Locale.ROOT);
      return new Answer(
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
    StringBuilder rows = new StringBuilder(64 * 1024);
    EventSink collect =
        (i, event) -> {
          if (rows.length() > 0) {
            rows.append(',');
          }
          EventJson.append(rows, i, event);
        };
    SnapshotSource.Result r;
    try {
      r = source.take(collect);
    } catch (RuntimeException e) {
      return new Answer(
          500, new JsonObject().put("error", "snapshot failed: " + e.getMessage()).encode());
    }
    StringBuilder body = new StringBuilder(rows.length() + 256);
    body.append("{\"instance\":");
    EventJson.string(body, name);
    body.append(",\"gadget\":");
    EventJson.string(body, instance.gadget().name());
    body.append(",\"time\":\"").append(r.time()).append('"');
    body.append(",\"duration_ms\":").append(r.durationNanos() / 1e6);
    body.append(",\"malformed\":").append(r.malformed());
    body.append(",\"namespaces\":").append(r.namespaces());
    body.append(",\"namespaces_skipped\":").append(r.namespacesSkipped());
    body.append(",\"rows\":[").append(rows).append("]}");
    return new Answer(200, body.toString());
  }

  /** An HTTP status and a JSON body. */
  record Answer(int status, String body) {}
}
