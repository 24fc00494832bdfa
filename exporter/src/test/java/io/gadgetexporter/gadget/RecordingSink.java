package io.gadgetexporter.gadget;

import java.time.Duration;
import java.util.ArrayList;
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

  private final List<Recorded> events = new ArrayList<>();

  @Override
  public synchronized void accept(GadgetInstance instance, EventView event) {
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> texts = new LinkedHashMap<>();
    for (EventField f : event.schema().fields()) {
      values.put(f.name(), event.value(f));
      texts.put(f.name(), event.text(f));
    }
    events.add(new Recorded(instance.name(), values, texts));
    notifyAll();
  }

  public synchronized List<Recorded> events() {
    return List.copyOf(events);
  }

  /** Waits for an event matching {@code test}; fails the test with what was seen if none comes. */
  public synchronized Recorded await(Predicate<Recorded> test, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int checked = 0;
    while (true) {
      for (; checked < events.size(); checked++) {
        if (test.test(events.get(checked))) {
          return events.get(checked);
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no matching event within " + timeout + " among " + events.size() + " events");
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
