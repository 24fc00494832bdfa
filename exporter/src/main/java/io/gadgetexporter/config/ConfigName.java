package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

/**
 * A name written in the config that only the runtime can check (a field of the gadget), with where
 * it is written so the runtime's message can point at it.
 */
public record ConfigName(String text, String keyPath, ConfigLocation location) {
  public ConfigName {
    requireNonNull(text, "text");
    requireNonNull(keyPath, "keyPath");
    requireNonNull(location, "location");
  }

  public ConfigException.Problem problem(String message) {
    return new ConfigException.Problem(location, keyPath, message);
  }
}
