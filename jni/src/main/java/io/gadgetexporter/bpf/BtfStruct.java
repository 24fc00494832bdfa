package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * A C struct as BTF describes it.
 *
 * @param name the struct's name ({@code ""} if anonymous)
 * @param size {@code sizeof}, in bytes
 * @param fields its members in declaration order
 */
public record BtfStruct(String name, int size, List<BtfField> fields) {
  public BtfStruct {
    requireNonNull(name, "name");
    fields = List.copyOf(fields);
  }

  /** The member called {@code name}. */
  public Optional<BtfField> field(String name) {
    return fields.stream().filter(f -> f.name().equals(name)).findFirst();
  }
}
