package io.gadgetexporter.columns;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.FieldFormat;
import io.gadgetexporter.gadget.GadgetInstance;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;

/**
 * Events as aligned columns, for a person at a terminal. Each instance prints its header before its
 * first event (instances have different fields); every line starts with the instance name so
 * interleaved instances stay readable. Widths come from {@code gadget.yaml}; a longer value is cut
 * with a trailing '…', except the last column, which is printed whole.
 */
public final class ColumnsSink implements EventSink {
  private static final DateTimeFormatter MILLIS_UTC =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private static final int CONTAINER_WIDTH = 24;

  private final PrintStream out;
  private final StringBuilder line = new StringBuilder(256);
  private final Set<String> headerPrinted = new HashSet<>();
  private final Object lock = new Object();

  public ColumnsSink(PrintStream out) {
    this.out = out;
  }

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    synchronized (lock) {
      if (headerPrinted.add(instance.name())) {
        line.setLength(0);
        cell("INSTANCE", instanceWidth(instance), false);
        if (hasContainer(event)) {
          cell("CONTAINER", CONTAINER_WIDTH, false);
        }
        for (EventField f : event.schema().fields()) {
          if (!f.hidden()) {
            cell(f.name().toUpperCase(java.util.Locale.ROOT), f.spec().width(), isLast(event, f));
          }
        }
        out.println(line.toString().stripTrailing());
      }
      line.setLength(0);
      cell(instance.name(), instanceWidth(instance), false);
      if (hasContainer(event)) {
        cell(containerText(event.container()), CONTAINER_WIDTH, false);
      }
      for (EventField f : event.schema().fields()) {
        if (!f.hidden()) {
          cell(text(event, f), f.spec().width(), isLast(event, f));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }

  /** As {@link EventView#text}, but times to the millisecond: a person reads, a program uses JSON. */
  private static String text(EventView event, EventField f) {
    return f.format() == FieldFormat.TIMESTAMP
        ? MILLIS_UTC.format(event.getInstant(f))
        : event.text(f);
  }

  @Override
  public void flush() {
    synchronized (lock) {
      out.flush();
    }
  }

  /** Whether the instance's events can carry a container (it has a namespace or cgroup id). */
  private static boolean hasContainer(EventView event) {
    return event.schema().hasContainerKeys();
  }

  /** The pod's {@code namespace/pod/container} in Kubernetes, else the runtime's name. */
  static String containerText(Container c) {
    if (c == null) {
      return "?";
    }
    return switch (c.kind()) {
      case HOST -> "host";
      case POD -> c.pod().map(p -> p.namespace() + "/" + p.name()).orElse("?");
      case CONTAINER ->
          c.pod()
              .filter(p -> !p.name().isEmpty())
              .map(p -> p.namespace() + "/" + p.name() + "/" + p.containerName())
              .orElse(c.name());
    };
  }

  private static int instanceWidth(GadgetInstance instance) {
    return Math.max(8, instance.name().length());
  }

  private static boolean isLast(EventView event, EventField f) {
    for (int i = event.schema().fields().size() - 1; i >= 0; i--) {
      EventField g = event.schema().fields().get(i);
      if (!g.hidden()) {
        return g == f;
      }
    }
    return false;
  }

  private void cell(String text, int width, boolean last) {
    String clean = text.replace('\n', ' ').replace('\t', ' ');
    if (last) {
      line.append(clean);
      return;
    }
    if (clean.length() > width) {
      line.append(clean, 0, Math.max(0, width - 1)).append('…');
    } else {
      line.append(clean);
      line.append(" ".repeat(width - clean.length()));
    }
    line.append(' ');
  }
}
