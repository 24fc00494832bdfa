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
}
