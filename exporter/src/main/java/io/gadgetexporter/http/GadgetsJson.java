package io.gadgetexporter.http;

import io.gadgetexporter.config.SelectorConfig;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetSpec;
import io.gadgetexporter.gadget.ParamSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The gadget instances as {@code /api/v1/gadgets} serves them: {@code {"gadgets": [...]}}, each
 * with its state, parameters, selector, counters, live-stream counters and the fields its events
 * carry (what a client of {@code /api/v1/events} will read).
 */
final class GadgetsJson {
  private GadgetsJson() {}

  static JsonObject list(Collection<GadgetInstance> instances, LiveEvents live) {
    JsonArray gadgets = new JsonArray();
    instances.forEach(i -> gadgets.add(of(i, live)));
    return new JsonObject().put("gadgets", gadgets);
  }

  /** Reads the kernel's lost and filtered counters (a map lookup each): not for the event loop. */
  static JsonObject of(GadgetInstance i, LiveEvents live) {
    JsonObject o =
        new JsonObject()
            .put("name", i.name())
            .put("gadget", i.gadget().name())
            .put("state", i.state().name().toLowerCase(Locale.ROOT));
    if (i.failure() != null) {
      o.put("failure", i.failure());
    }
    JsonObject params = new JsonObject();
    i.params().forEach((k, v) -> params.put(k, ParamSpec.display(v)));
    o.put("params", params);
    SelectorConfig selector = i.selector().config(); // in force: updated in place by a reload
    if (!selector.selectsEverything()) {
      o.put("selector", selector(selector));
    }
    LiveEvents.Stats stream = live.stats(i.name());
    if (i.gadget().spec().isAggregate()) {
      o.put("rows_dropped", i.rowsDroppedTotal()); // events counts the rows delivered
    }
    o.put("events", i.eventsTotal())
        .put("lost", i.lostTotal())
        .put("incomplete", i.incompleteTotal())
        .put("malformed", i.malformedTotal())
        .put("filtered", i.filteredTotal())
        .put(
            "stream",
            new JsonObject()
                .put("subscribers", stream.subscribers())
                .put("queued", stream.queued())
                .put("sent", stream.sent())
                .put("dropped", stream.dropped()));
    i.snapshots().ifPresent(s -> o.put("snapshot", snapshot(s)));
    i.socketFilters().ifPresent(s -> o.put("socket_filter", socketFilters(s)));
    JsonArray fields = new JsonArray();
    for (GadgetSpec.FieldSpec f : i.gadget().spec().fields()) {
      JsonObject field =
          new JsonObject()
              .put("name", f.name())
              .put("semantic", f.semantic())
              .put("description", f.description());
      if (f.unit() != null) {
        field.put("unit", f.unit());
      }
      fields.add(field);
    }
    return o.put("fields", fields);
  }

  /** A snapshot gadget's counters: what its interval and its on-demand requests did. */
  private static JsonObject snapshot(io.gadgetexporter.gadget.SnapshotSource s) {
    io.gadgetexporter.gadget.SnapshotSource.Stats st = s.stats();
    return new JsonObject()
        .put("interval", ParamSpec.display(s.interval()))
        .put("taken", st.taken())
        .put("failed", st.failed())
        .put("last_rows", st.lastRows())
        .put("last_duration_ms", st.lastDurationNanos() / 1e6)
        .put("namespaces_skipped", st.namespacesSkipped());
  }

  /**
   * Where a gadget's socket filters run: each network namespace with a socket (and whether it is
   * wholly selected, so that a message of an unknown process is kept), each selected container
   * whose socket could not be opened (why, how often, when it is tried again), and the failed
   * opens.
   */
  static JsonObject socketFilters(io.gadgetexporter.gadget.SocketFilters s) {
    JsonArray namespaces = new JsonArray();
    s.namespaces()
        .forEach(
            n ->
                namespaces.add(
                    new JsonObject()
                        .put("netns_id", n.netnsId())
                        .put("all_selected", n.allSelected())));
    JsonArray unopened = new JsonArray();
    s.unopened()
        .forEach(
            u ->
                unopened.add(
                    new JsonObject()
                        .put("container_id", u.containerId())
                        .put("netns_id", u.netnsId())
                        .put("attempts", u.attempts())
                        .put("error", u.error())
                        .put("retry_in_ms", u.retryIn().toMillis())));
    return new JsonObject()
        .put("namespaces", namespaces)
        .put("unopened", unopened)
        .put("open_failures", s.openFailures());
  }

  /** As configured: {@code host} with its default applied. */
  private static JsonObject selector(SelectorConfig s) {
    return new JsonObject()
        .put("namespaces", new JsonArray(s.namespaces()))
        .put("pods", new JsonArray(s.pods()))
        .put("containers", new JsonArray(s.containers()))
        .put("labels", new JsonObject(new TreeMap<String, Object>(s.labels())))
        .put("host", s.includesHost());
  }

  /** An error body for a missing or unknown instance, with the names a client could use. */
  static JsonObject unknownInstance(String message, Collection<GadgetInstance> instances) {
    JsonArray known = new JsonArray();
    instances.forEach(i -> known.add(i.name()));
    return new JsonObject().put("error", message).put("instances", known);
  }
}
