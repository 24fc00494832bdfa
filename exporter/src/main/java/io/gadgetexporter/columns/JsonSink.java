package io.gadgetexporter.columns;

import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import java.io.PrintStream;

/**
 * Events as JSON lines, one object per event, in the form {@link EventJson} describes (the same as
 * the HTTP API's live stream).
 */
public final class JsonSink implements EventSink {
  private final PrintStream out;
  private final StringBuilder line = new StringBuilder(512);
  private final Object lock = new Object();

  public JsonSink(PrintStream out) {
    this.out = out;
  }

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    synchronized (lock) {
      line.setLength(0);
      EventJson.append(line, instance, event);
      out.println(line);
    }
  }

  @Override
  public void flush() {
    synchronized (lock) {
      out.flush();
    }
  }
}
