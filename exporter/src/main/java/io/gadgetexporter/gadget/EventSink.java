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

  /**
   * Every event to {@code first}, then to {@code second}, so one drain feeds several outputs (the
   * terminal and the live stream). Each gets the event even if the other throws, which it must not:
   * one broken output must not starve the rest.
   */
  static EventSink both(EventSink first, EventSink second) {
    if (first == NONE) {
      return second;
    }
    if (second == NONE) {
      return first;
    }
    return new EventSink() {
      @Override
      public void accept(GadgetInstance instance, EventView event) {
        try {
          first.accept(instance, event);
        } finally {
          second.accept(instance, event);
        }
      }

      @Override
      public void flush() {
        try {
          first.flush();
        } finally {
          second.flush();
        }
      }
    };
  }
}
