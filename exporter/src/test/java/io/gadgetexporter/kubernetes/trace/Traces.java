package io.gadgetexporter.kubernetes.trace;

import io.fabric8.kubernetes.client.utils.Serialization;

/** Trace resources for tests, written as users write them. */
final class Traces {
  private Traces() {}

  /**
   * A Trace from YAML text of its spec's keys (indented by two, as under {@code spec:}); the text
   * goes through the model's deserialization like a Trace read from the API server.
   */
  static Trace trace(String name, String specYaml) {
    return Serialization.unmarshal(
        "apiVersion: gadgetexporter.io/v1alpha1\n"
            + "kind: Trace\n"
            + "metadata:\n"
            + "  name: "
            + name
            + "\n"
            + "spec:\n"
            + specYaml,
        Trace.class);
  }
}
