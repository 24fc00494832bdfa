package io.gadgetexporter.export;

import java.util.ArrayList;
import java.util.List;

/**
 * The asynchronous instruments (and batch callbacks) one registration method made. Closing it
 * removes their callbacks, for a caller that outlives them (tests, a reload); closing the meter
 * provider does the same for everything.
 */
public final class Registration implements AutoCloseable {
  private final List<AutoCloseable> parts = new ArrayList<>();

  Registration() {}

  <T extends AutoCloseable> T add(T part) {
    parts.add(part);
    return part;
  }

  void addAll(Registration other) {
    parts.addAll(other.parts);
  }

  /** Removes every callback; idempotent. */
  @Override
  public void close() {
    for (AutoCloseable p : parts) {
      try {
        p.close();
      } catch (Exception e) {
        // OTel's instruments do not throw from close; nothing to undo if one did.
      }
    }
    parts.clear();
  }
}
