package io.gadgetexporter.columns;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import java.io.PrintStream;
import java.util.List;

/**
 * Events as JSON lines, one object per event: {@code instance}, {@code gadget}, the container
 * ({@code container.id}, {@code container.name}, {@code k8s.pod.name}, … or {@code host: true}),
 * then every field
 * (hidden ones too: a program reads them). Numbers stay numbers; a field with a human form also
 * gets it: errno names ({@code error} beside a negative {@code gadget_syscall_ret}), symbolic flags
 * and octal modes as {@code <field>_text}, timestamps as ISO-8601 with {@code <field>_raw} in boot
 * nanoseconds.
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
      line.append('{');
      member("instance").string(instance.name());
      line.append(',');
      member("gadget").string(instance.gadget().name());
      container(event.container());
      for (EventField f : event.schema().fields()) {
        line.append(',');
        field(event, f);
      }
      line.append('}');
      out.println(line);
    }
  }

  /** Named as OpenTelemetry's semantic conventions name them, so the JSON reads like the OTLP. */
  private void container(Container c) {
    if (c == null) {
      return;
    }
    if (c.isHost()) {
      line.append(',');
      member("host").append(true);
      return;
    }
    if (!c.id().isEmpty()) {
      line.append(',');
      member("container.id").string(c.id());
      line.append(',');
      member("container.name").string(c.name());
      line.append(',');
      member("container.runtime").string(c.runtime());
    }
    if (c.image().isPresent()) {
      line.append(',');
      member("container.image.name").string(c.image().get());
    }
    if (c.pod().isPresent()) {
      Container.Pod p = c.pod().get();
      line.append(',');
      member("k8s.namespace.name").string(p.namespace());
      line.append(',');
      member("k8s.pod.name").string(p.name());
      line.append(',');
      member("k8s.pod.uid").string(p.uid());
      if (!p.containerName().isEmpty()) {
        line.append(',');
        member("k8s.container.name").string(p.containerName());
      }
    }
  }

  private void field(EventView event, EventField f) {
    switch (f.format()) {
      case NUMBER -> member(f.name()).append(event.getLong(f));
      case BOOL -> member(f.name()).append(event.getLong(f) != 0);
      case STRING, BYTES -> member(f.name()).string(event.text(f));
      case ARGS -> {
        member(f.name()).append('[');
        List<String> args = event.getArgs(f);
        for (int i = 0; i < args.size(); i++) {
          if (i > 0) {
            line.append(',');
          }
          string(args.get(i));
        }
        line.append(']');
      }
      case TIMESTAMP -> {
        member(f.name()).string(event.text(f));
        line.append(',');
        member(f.name() + "_raw").append(event.getLong(f));
      }
      case SYSCALL_RET -> {
        long r = event.getLong(f);
        member(f.name()).append(r);
        if (r < 0) {
          line.append(',');
          member("error").string(event.text(f));
        }
      }
      case ERRNO, OPEN_FLAGS, FILE_MODE -> {
        member(f.name()).append(event.getLong(f));
        line.append(',');
        member(f.name() + "_text").string(event.text(f));
      }
    }
  }

  @Override
  public void flush() {
    synchronized (lock) {
      out.flush();
    }
  }

  private JsonSink member(String name) {
    string(name);
    line.append(':');
    return this;
  }

  private JsonSink append(Object v) {
    line.append(v);
    return this;
  }

  private JsonSink string(String s) {
    line.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> line.append("\\\"");
        case '\\' -> line.append("\\\\");
        case '\n' -> line.append("\\n");
        case '\r' -> line.append("\\r");
        case '\t' -> line.append("\\t");
        default -> {
          if (c < 0x20) {
            line.append(String.format("\\u%04x", (int) c));
          } else {
            line.append(c);
          }
        }
      }
    }
    line.append('"');
    return this;
  }
}
