package io.gadgetexporter.columns;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import java.util.List;
import java.util.Map;

/**
 * One event as a JSON object: {@code instance}, {@code gadget}, the container ({@code
 * container.id}, {@code container.name}, {@code k8s.pod.name}, … or {@code host: true}), then every
 * field (hidden ones too: a program reads them). Numbers stay numbers; a field with a human form
 * also gets it: errno names ({@code error} beside a negative {@code gadget_syscall_ret}), symbolic
 * flags and octal modes as {@code <field>_text}, timestamps as ISO-8601 with {@code <field>_raw} in
 * boot nanoseconds.
 *
 * <p>One form for every output that speaks JSON ({@link JsonSink}'s lines, the HTTP API's live
 * stream), so a program written against one reads the other. It appends to a caller's builder, so a
 * caller that reuses its builder allocates only the strings an event's human forms need.
 */
public final class EventJson {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private EventJson() {}

  /**
   * Appends the event's JSON object to {@code out}. The view is read only during the call.
   *
   * @return {@code out}
   */
  public static StringBuilder append(StringBuilder out, GadgetInstance instance, EventView event) {
    out.append('{');
    member(out, "instance");
    string(out, instance.name());
    out.append(',');
    member(out, "gadget");
    string(out, instance.gadget().name());
    container(out, event.container());
    for (EventField f : event.schema().fields()) {
      out.append(',');
      field(out, event, f);
    }
    return out.append('}');
  }

  /** Named as OpenTelemetry's semantic conventions name them, so the JSON reads like the OTLP. */
  private static void container(StringBuilder out, Container c) {
    if (c == null) {
      return;
    }
    if (c.isHost()) {
      out.append(',');
      member(out, "host");
      out.append(true);
      return;
    }
    if (!c.id().isEmpty()) {
      out.append(',');
      stringMember(out, "container.id", c.id());
      out.append(',');
      stringMember(out, "container.name", c.name());
      out.append(',');
      stringMember(out, "container.runtime", c.runtime());
    }
    if (c.image().isPresent()) {
      out.append(',');
      stringMember(out, "container.image.name", c.image().get());
    }
    if (c.pod().isPresent()) {
      Container.Pod p = c.pod().get();
      out.append(',');
      stringMember(out, "k8s.namespace.name", p.namespace());
      out.append(',');
      stringMember(out, "k8s.pod.name", p.name());
      out.append(',');
      stringMember(out, "k8s.pod.uid", p.uid());
      if (!p.containerName().isEmpty()) {
        out.append(',');
        stringMember(out, "k8s.container.name", p.containerName());
      }
      if (!p.nodeName().isEmpty()) {
        out.append(',');
        stringMember(out, "k8s.node.name", p.nodeName());
      }
      for (Container.Owner o : p.owners()) {
        String attribute = o.attributeName();
        if (attribute != null) {
          out.append(',');
          stringMember(out, attribute, o.name());
        }
      }
      for (Map.Entry<String, String> l : p.exportedLabels().entrySet()) {
        out.append(',');
        member(out, "k8s.pod.label.", l.getKey());
        string(out, l.getValue());
      }
      for (Map.Entry<String, String> a : p.exportedAnnotations().entrySet()) {
        out.append(',');
        member(out, "k8s.pod.annotation.", a.getKey());
        string(out, a.getValue());
      }
    }
  }

  private static void field(StringBuilder out, EventView event, EventField f) {
    String name = f.name();
    switch (f.format()) {
      case NUMBER -> {
        member(out, name);
        out.append(event.getLong(f));
      }
      case BOOL -> {
        member(out, name);
        out.append(event.getLong(f) != 0);
      }
      case STRING, BYTES, L4_ENDPOINT, PAYLOAD -> stringMember(out, name, event.text(f));
      case ARGS -> {
        member(out, name);
        out.append('[');
        List<String> args = event.getArgs(f);
        for (int i = 0; i < args.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          string(out, args.get(i));
        }
        out.append(']');
      }
      case TIMESTAMP -> {
        stringMember(out, name, event.text(f));
        out.append(',');
        member(out, name, "_raw");
        out.append(event.getLong(f));
      }
      case SYSCALL_RET -> {
        long r = event.getLong(f);
        member(out, name);
        out.append(r);
        if (r < 0) {
          out.append(',');
          stringMember(out, "error", event.text(f));
        }
      }
      case KERNEL_STACK, USER_STACK -> stringMember(out, name, event.text(f));
      case HISTOGRAM -> {
        member(out, name);
        out.append('[');
        long[] slots = event.getSlots(f);
        for (int i = 0; i < slots.length; i++) {
          if (i > 0) {
            out.append(',');
          }
          out.append(slots[i]);
        }
        out.append(']');
      }
      default -> {
        if (f.format().isInteger()) {
          // A code with a name (errno, signal, state, flags...): the number and its name.
          member(out, name);
          out.append(event.getLong(f));
          out.append(',');
          member(out, name, "_text");
          string(out, event.text(f));
        } else {
          stringMember(out, name, event.text(f));
        }
      }
    }
  }

  private static void stringMember(StringBuilder out, String name, String value) {
    member(out, name);
    string(out, value);
  }

  private static void member(StringBuilder out, String name) {
    string(out, name);
    out.append(':');
  }

  /** {@code "<name><suffix>":} without concatenating the two first. */
  private static void member(StringBuilder out, String name, String suffix) {
    out.append('"');
    escaped(out, name);
    escaped(out, suffix);
    out.append("\":");
  }

  /** A JSON string: quotes, backslashes and control characters escaped. */
  public static void string(StringBuilder out, String s) {
    out.append('"');
    escaped(out, s);
    out.append('"');
  }

  private static void escaped(StringBuilder out, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
