package io.gadgetexporter.container;

import io.gadgetexporter.gadget.AwaitableList;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import java.time.Duration;
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

  private final AwaitableList<Seen> events = new AwaitableList<>();

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    EventField mntns = event.schema().mntnsField();
    EventField comm = event.schema().field("comm").orElseThrow();
    String args =
        event.schema().field("args").map(f -> String.join(" ", event.getArgs(f))).orElse("");
    events.add(new Seen(event.getLong(mntns), event.text(comm), args, event.container()));
  }

  List<Seen> events() {
    return events.snapshot();
  }

  List<Seen> events(Predicate<Seen> test) {
    return events.snapshot().stream().filter(test).toList();
  }

  /** Waits until an event matches; fails with how many were seen otherwise. */
  Seen await(Predicate<Seen> test, Duration timeout) throws InterruptedException {
    return events.await(test, timeout);
  }
}
