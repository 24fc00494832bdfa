package io.gadgetexporter.gadget;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Starting real gadget instances in tests. */
public final class GadgetTesting {
  private GadgetTesting() {}

  /** An instance of a built-in gadget from a config snippet for one instance (YAML, indented). */
  public static GadgetInstance instance(String gadget, String extraYaml, EventSink sink) {
    return instance(gadget, extraYaml, sink, "");
  }

  /** As above, with more {@code ring_buffer:} keys (YAML indented by six). */
  public static GadgetInstance instance(
      String gadget, String extraYaml, EventSink sink, String ringBufferYaml) {
    return instance(gadget, extraYaml, sink, ringBufferYaml, null);
  }

  /** As above, enriching from (and filtering by) a container collection. */
  public static GadgetInstance instance(
      String gadget,
      String extraYaml,
      EventSink sink,
      String ringBufferYaml,
      io.gadgetexporter.container.ContainerCollection containers) {
    String yaml =
        "gadgets:\n  - name: test-" + gadget.replace('_', '-') + "\n    gadget: " + gadget + "\n"
            + "    ring_buffer:\n"
            + (ringBufferYaml.contains("drain_interval") ? "" : "      drain_interval: 10ms\n")
            + ringBufferYaml
            + extraYaml;
    InstanceConfig config = ConfigLoader.parse(yaml, "test.yaml", Map.of()).gadgets().get(0);
    Gadget g = GadgetCatalog.builtIn().find(gadget).orElseThrow();
    return new GadgetInstance(config, g, sink, BootClock.system(), containers);
  }

  /** An instance of any gadget (one made in the test: a built-in's object, another gadget.yaml). */
  public static GadgetInstance instance(Gadget gadget, String extraYaml, EventSink sink) {
    String yaml =
        "gadgets:\n  - name: test-"
            + gadget.name().replace('_', '-')
            + "\n    gadget: "
            + gadget.name()
            + "\n"
            + extraYaml;
    InstanceConfig config = ConfigLoader.parse(yaml, "test.yaml", Map.of()).gadgets().get(0);
    return new GadgetInstance(config, gadget, sink, BootClock.system());
  }

  /** How many loaded programs have each name. */
  public static Map<String, Long> countByName(List<String> names) {
    return names.stream()
        .collect(
            java.util.stream.Collectors.groupingBy(
                n -> n, java.util.TreeMap::new, java.util.stream.Collectors.counting()));
  }

  /** Names of the BPF programs loaded in the kernel right now (bpftool, as a user would check). */
  public static List<String> loadedProgramNames() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bpftool", "-j", "prog", "show").redirectErrorStream(true).start();
    String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("bpftool prog show failed: " + json);
    }
    List<String> names = new ArrayList<>();
    Matcher m = Pattern.compile("\"name\":\"([^\"]*)\"").matcher(json);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
