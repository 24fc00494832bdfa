package io.gadgetexporter.chart;

import static io.gadgetexporter.chart.HelmChart.REPOSITORY;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.gadgetexporter.gadget.GadgetCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Holds the capability table of docs/security.md to the chart: for the default values, for every
 * combination of the switches ({@code capabilities.sysAdmin}, {@code netRaw}, {@code syslog}: auto,
 * true, false) and for every combination of what the table says {@code auto} follows, the chart
 * (rendered by Helm itself) grants exactly the capabilities the table says, and it can grant no
 * capability the table does not list.
 *
 * <p>The table's "granted" column is read, not copied here: {@code always}, or the switch ({@code
 * `capabilities.sysAdmin`}) followed by {@code `auto`:} and what turns it on: {@code
 * `containers.runtime_hook`} (the runtime hook: on unless {@code containers.enabled} or {@code
 * containers.runtime_hook} is false), {@code `metrics.bpf_stats`} (on unless false), or a built-in
 * gadget's name (an instance of it is configured).
 */
class SecurityDocumentationTest {
  private static final String DOC = "docs/security.md";
  private static final List<String> MODES = List.of("auto", "true", "false");

  /** A row of the table: the capability (without CAP_) and when the chart grants it. */
  record Row(String capability, boolean always, String switchKey, List<String> triggers) {}

  /** What the agent's configuration turns on, as far as {@code auto} looks at it. */
  enum Hook {
    ON,
    OFF,
    DISCOVERY_OFF
  }

  record Scenario(Hook hook, boolean bpfStats, Set<String> gadgets) {
    /** The chart's values for it: the agent's config, plus the switches. */
    String values(String sysAdmin, String netRaw, String syslog) {
      StringBuilder v = new StringBuilder();
      v.append("capabilities: {sysAdmin: ")
          .append(sysAdmin)
          .append(", netRaw: ")
          .append(netRaw)
          .append(", syslog: ")
          .append(syslog)
          .append("}\nconfig:\n");
      switch (hook) {
        case OFF -> v.append("  containers: {runtime_hook: false}\n");
        case DISCOVERY_OFF -> v.append("  containers: {enabled: false}\n");
        case ON -> {}
      }
      if (!bpfStats) {
        v.append("  metrics: {bpf_stats: false}\n");
      }
      v.append("  gadgets:\n    - {name: exec, gadget: trace_exec}\n");
      for (String g : gadgets) {
        v.append("    - {gadget: ").append(g).append("}\n");
      }
      return v.toString();
    }

    boolean triggered(String trigger) {
      return switch (trigger) {
        case "containers.runtime_hook" -> hook == Hook.ON;
        case "metrics.bpf_stats" -> bpfStats;
        default -> gadgets.contains(trigger);
      };
    }
  }

  private static List<Row> table;

  @BeforeAll
  static void readTable() throws IOException {
    table = capabilityTable(Files.readString(REPOSITORY.resolve(DOC)));
  }

  @Test
  void theTableIsReadable() {
    assertThat(table).extracting(Row::capability).doesNotHaveDuplicates();
    assertThat(table.stream().filter(Row::always)).hasSizeGreaterThanOrEqualTo(5);
    Set<String> builtIn = new TreeSet<>();
    GadgetCatalog.builtIn().builtInGadgets().forEach(g -> builtIn.add(g.name()));
    for (Row r : table) {
      if (r.always()) {
        continue;
      }
      assertThat(r.switchKey()).as("switch of CAP_%s", r.capability()).isNotEmpty();
      assertThat(r.triggers()).as("what auto follows for CAP_%s", r.capability()).isNotEmpty();
      for (String t : r.triggers()) {
        assertThat(
                t.equals("containers.runtime_hook")
                    || t.equals("metrics.bpf_stats")
                    || builtIn.contains(t))
            .as("CAP_%s's auto trigger `%s` is the runtime hook, BPF statistics or a built-in"
                + " gadget", r.capability(), t)
            .isTrue();
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void theDefaultValuesGrantWhatTheTableSays() throws IOException {
    // The chart's own defaults: the runtime hook and BPF statistics on, the gadgets of its
    // config.gadgets.
    Map<String, Object> values =
        (Map<String, Object>)
            new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(HelmChart.CHART.resolve("values.yaml")));
    Set<String> gadgets = new TreeSet<>();
    for (Object g : (List<?>) ((Map<?, ?>) values.get("config")).get("gadgets")) {
      gadgets.add((String) ((Map<?, ?>) g).get("gadget"));
    }
    assertThat(gadgets).isNotEmpty();
    Scenario defaults = new Scenario(Hook.ON, true, gadgets);
    assertThat(granted("")).isEqualTo(expected(defaults, "auto", "auto", "auto"));
  }

  @Test
  void everyCombinationOfTheSwitchesGrantsWhatTheTableSays() {
    List<Scenario> configs =
        List.of(
            new Scenario(Hook.ON, true, Set.of()),
            new Scenario(Hook.OFF, false, Set.of()),
            new Scenario(
                Hook.ON,
                true,
                new LinkedHashSet<>(List.of("trace_dns", "snapshot_socket", "profile_cpu"))));
    for (Scenario s : configs) {
      for (String sysAdmin : MODES) {
        for (String netRaw : MODES) {
          for (String syslog : MODES) {
            assertThat(granted(s.values(sysAdmin, netRaw, syslog)))
                .as("%s with sysAdmin %s, netRaw %s, syslog %s", s, sysAdmin, netRaw, syslog)
                .isEqualTo(expected(s, sysAdmin, netRaw, syslog));
          }
        }
      }
    }
  }

  @Test
  void autoFollowsEveryCombinationOfWhatTheTableNames() {
    List<String> gadgetTriggers =
        table.stream()
            .flatMap(r -> r.triggers().stream())
            .filter(t -> !t.contains("."))
            .distinct()
            .toList();
    for (Hook hook : Hook.values()) {
      for (boolean stats : List.of(true, false)) {
        for (int mask = 0; mask < 1 << gadgetTriggers.size(); mask++) {
          Set<String> gadgets = new LinkedHashSet<>();
          for (int i = 0; i < gadgetTriggers.size(); i++) {
            if ((mask & 1 << i) != 0) {
              gadgets.add(gadgetTriggers.get(i));
            }
          }
          Scenario s = new Scenario(hook, stats, gadgets);
          assertThat(granted(s.values("auto", "auto", "auto")))
              .as("%s, every switch auto", s)
              .isEqualTo(expected(s, "auto", "auto", "auto"));
        }
      }
    }
  }

  /**
   * A trigger the table forgets would never be configured by the test above: each built-in gadget
   * alone, with nothing else turning a switch on, must grant what the table says.
   */
  @Test
  void eachBuiltInGadgetAloneGrantsWhatTheTableSays() {
    for (var g : GadgetCatalog.builtIn().builtInGadgets()) {
      Scenario s = new Scenario(Hook.OFF, false, Set.of(g.name()));
      assertThat(granted(s.values("auto", "auto", "auto")))
          .as("%s, every switch auto", s)
          .isEqualTo(expected(s, "auto", "auto", "auto"));
    }
  }

  @Test
  void theChartGrantsNoCapabilityTheTableDoesNotListAndEveryOneItLists() {
    Set<String> documented = new TreeSet<>();
    table.forEach(r -> documented.add(r.capability()));
    Scenario everything =
        new Scenario(Hook.ON, true, Set.of("trace_dns", "snapshot_socket", "profile_cpu"));
    Set<String> grantable = new TreeSet<>(granted(everything.values("true", "true", "true")));
    grantable.addAll(granted(everything.values("auto", "auto", "auto")));
    grantable.addAll(granted(""));
    assertThat(grantable).isEqualTo(documented);
  }

  // ---- the table's meaning

  private static Set<String> expected(
      Scenario s, String sysAdmin, String netRaw, String syslog) {
    Set<String> caps = new TreeSet<>();
    for (Row r : table) {
      if (r.always()) {
        caps.add(r.capability());
        continue;
      }
      String mode =
          switch (r.switchKey()) {
            case "sysAdmin" -> sysAdmin;
            case "netRaw" -> netRaw;
            case "syslog" -> syslog;
            default -> throw new AssertionError("unknown switch capabilities." + r.switchKey());
          };
      boolean on =
          switch (mode) {
            case "true" -> true;
            case "false" -> false;
            default -> r.triggers().stream().anyMatch(s::triggered);
          };
      if (on) {
        caps.add(r.capability());
      }
    }
    return caps;
  }

  private static Set<String> granted(String values) {
    DaemonSet ds = HelmChart.render(values).one(DaemonSet.class);
    Container agent = ds.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(agent.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    List<String> added = agent.getSecurityContext().getCapabilities().getAdd();
    assertThat(added).doesNotHaveDuplicates();
    return new TreeSet<>(added);
  }

  // ---- reading the page

  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  /** The first table after "## Capabilities": capability, granted, what needs it, without it. */
  static List<Row> capabilityTable(String doc) {
    int section = doc.indexOf("\n## Capabilities\n");
    assertThat(section).as("'## Capabilities' in %s", DOC).isNotNegative();
    List<Row> rows = new ArrayList<>();
    boolean inTable = false;
    for (String line : doc.substring(section + 1).lines().skip(1).toList()) {
      if (!line.startsWith("|")) {
        if (inTable) {
          break;
        }
        continue;
      }
      inTable = true;
      String[] cells = line.split("\\|");
      String first = cells[1].strip();
      if (first.equals("capability") || first.startsWith("---")) {
        continue;
      }
      Matcher cap = Pattern.compile("^`CAP_([A-Z_]+)`$").matcher(first);
      assertThat(cap.matches()).as("capability cell %s in %s", first, DOC).isTrue();
      String granted = cells[2].strip();
      if (granted.equals("always")) {
        rows.add(new Row(cap.group(1), true, "", List.of()));
        continue;
      }
      List<String> codes = new ArrayList<>();
      Matcher m = CODE.matcher(granted);
      while (m.find()) {
        codes.add(m.group(1));
      }
      assertThat(codes.size())
          .as("granted cell of CAP_%s: `capabilities.X`; `auto`: triggers", cap.group(1))
          .isGreaterThanOrEqualTo(3);
      assertThat(codes.get(0)).startsWith("capabilities.");
      assertThat(codes.get(1)).isEqualTo("auto");
      rows.add(
          new Row(
              cap.group(1),
              false,
              codes.get(0).substring("capabilities.".length()),
              List.copyOf(codes.subList(2, codes.size()))));
    }
    return rows;
  }
}
