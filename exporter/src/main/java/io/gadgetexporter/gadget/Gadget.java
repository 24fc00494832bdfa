package io.gadgetexporter.gadget;

import java.util.Objects;

/**
 * A gadget ready to instantiate: its description and its compiled BPF object.
 *
 * @param origin where it came from, for messages: {@code built-in} or a directory
 */
public record Gadget(GadgetSpec spec, byte[] object, String origin) {
  public Gadget {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(object, "object");
    Objects.requireNonNull(origin, "origin");
  }

  public String name() {
    return spec.name();
  }
}
