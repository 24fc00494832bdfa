package io.gadgetexporter.gadget;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A kind of payload a gadget can hand to userspace: the element typedef that declares it in the
 * program, the fields it derives (their names and formats) and how to make a decoder.
 *
 * <p>A payload field {@code X} is paired with {@code gadget_payload_size X_size} (bytes captured)
 * and {@code gadget_payload_len X_len} (bytes the payload had), like {@code gadget_args} with its
 * size.
 *
 * @param slots what the decoder derives, by slot number
 */
public record PayloadFormat(String typedef, List<Slot> slots, Supplier<PayloadDecoder> decoders) {
  /** One derived value: the field name gadget.yaml gives it, and how outputs read it. */
  public record Slot(String name, FieldFormat format) {}

  public PayloadFormat {
    slots = List.copyOf(slots);
  }

  /** The format a payload typedef stands for, if it is one: the decoders there are. */
  public static Optional<PayloadFormat> forTypedef(String typedef) {
    if (typedef == null) {
      return Optional.empty();
    }
    return switch (typedef) {
      case "gadget_dns_payload" -> Optional.of(DnsPayloadDecoder.FORMAT);
      default -> Optional.empty();
    };
  }

  /** The slot derived under {@code name}, or -1. */
  public int slot(String name) {
    for (int i = 0; i < slots.size(); i++) {
      if (slots.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** The derived field names, comma-separated: for messages. */
  public String slotNames() {
    return String.join(", ", slots.stream().map(Slot::name).toList());
  }
}
