package io.gadgetexporter.container;

import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Keeps, for each event, its mount namespace, command, arguments and the container it got. */
final class ContainerEventSink implements EventSink {
  /** One event as a user of the output would look at it. */
  record Seen(long mntnsId, String comm, String args, Container container) {
    boolean in(Container c) {
      return mntnsId == c.mntnsId();
    }
  }

  private final List<Seen> events = new ArrayList<>();

  @Override
  public synchronized void accept(GadgetInstance instance, EventView event) {
    EventField mntns = event.schema().mntnsField();
    EventField comm = event.schema().field("comm").orElseThrow();
    String args =
        event.schema().field("args").map(f -> String.join(" ", event.getArgs(f))).orElse("");
    events.add(new Seen(event.getLong(mntns), event.text(comm), args, event.container()));
    notifyAll();
  }

  synchronized List<Seen> events() {
    return List.copyOf(events);
  }

  synchronized List<Seen> events(Predicate<Seen> test) {
    return events.stream().filter(test).toList();
  }

  /** Waits until an event matches; fails with what was seen otherwise. */
  synchronized Seen await(Predicate<Seen> test, Duration timeout) throws InterruptedException {
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
