package io.gadgetexporter.gadget;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Keeps a copy of every event (typed values and human forms) so a test can look for one. */
public final class RecordingSink implements EventSink {
  /** One event, copied out of the drain buffer. */
  public record Recorded(String instance, Map<String, Object> values, Map<String, String> texts) {
    public Object value(String field) {
      if (!values.containsKey(field)) {
        throw new IllegalArgumentException("no field " + field + " in " + values.keySet());
      }
      return values.get(field);
    }

    public String text(String field) {
      return texts.get(field);
    }
  }

  private final AwaitableList<Recorded> events = new AwaitableList<>();

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> texts = new LinkedHashMap<>();
    for (EventField f : event.schema().fields()) {
      values.put(f.name(), event.value(f));
      texts.put(f.name(), event.text(f));
    }
    events.add(new Recorded(instance.name(), values, texts));
  }

  public List<Recorded> events() {
    return events.snapshot();
  }

  /** Waits for an event matching {@code test}; fails the test with what was seen if none comes. */
  public Recorded await(Predicate<Recorded> test, Duration timeout) throws InterruptedException {
    return events.await(test, timeout);
  }

  /** Waits for an event about a packet of {@code peer}'s connection from its client to its server. */
  public Recorded awaitClientToServer(NetnsPeer peer, Duration timeout) throws InterruptedException {
    String client = peer.clientEndpoint();
    String server = peer.serverEndpoint();
    return await(r -> client.equals(r.text("src")) && server.equals(r.text("dst")), timeout);
  }
}
