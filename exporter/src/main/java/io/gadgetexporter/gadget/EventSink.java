package io.gadgetexporter.gadget;

/**
 * Where decoded events go. Called on an instance's drain thread, once per event of a batch, then
 * {@link #flush()} once per batch; several instances may call it at once.
 */
public interface EventSink {
  /** Takes one event; the view is valid only during the call. Must not throw. */
  void accept(GadgetInstance instance, EventView event);

  /** End of a drained batch: write out what was buffered. */
  default void flush() {}

  /** A sink that keeps nothing: events are only counted. */
  EventSink NONE = (instance, event) -> {};

  /** Every event to each of the sinks, in order; one sink failing does not keep the others from it. */
  static EventSink all(java.util.List<EventSink> sinks) {
    EventSink[] each = sinks.stream().filter(s -> s != NONE).toArray(EventSink[]::new);
    if (each.length == 1) {
      return each[0];
    }
    return new EventSink() {
      @Override
      public void accept(GadgetInstance instance, EventView event) {
        for (EventSink s : each) {
          try {
            s.accept(instance, event);
          } catch (RuntimeException e) {
            // One output's failure must not deprive the others of the event; sinks must not
            // throw, and the instance logs what reaches it (see GadgetInstance.process).
          }
        }
      }

      @Override
      public void flush() {
        for (EventSink s : each) {
          try {
            s.flush();
          } catch (RuntimeException e) {
            // As in accept: the other outputs still flush.
          }
        }
      }
    };
  }
}
