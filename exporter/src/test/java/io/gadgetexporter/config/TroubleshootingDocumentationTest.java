package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.gadgetexporter.export.EventMetrics;
import io.gadgetexporter.gadget.GadgetBuild;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Keeps docs/troubleshooting.md and docs/security.md true to the code: every {@code gadget_*}
 * metric they name is one the agent exposes (the exposed names found by building each instrument
 * the agent's source defines in a Prometheus reader), every configuration key is a {@link
 * ConfigKey}, every chart value is in values.yaml, every YAML example is accepted (the agent's
 * configuration by the loader and each instance's gadget; the chart's values key by key), and every
 * message quoted in a {@code log} block is made of the agent's own strings.
 *
 * <p>Conventions of the pages: a {@code log} block holds the agent's messages, {@code <…>} for
 * what varies; a {@code yaml} block is the agent's configuration, or the chart's values when it
 * has a top-level key of values.yaml.
 */
class TroubleshootingDocumentationTest {
  private static final Path REPOSITORY = GadgetBuild.repositoryRoot();
  private static final Map<String, String> NODE_ENV = Map.of("NODE_NAME", "node-a");

  /** The top-level keys of the agent's configuration file. */
  private static final Set<String> CONFIG_SECTIONS =
      Arrays.stream(ConfigKey.values())
          .map(k -> k.path().replaceAll("[.\\[].*", ""))
          .collect(Collectors.toCollection(TreeSet::new));

  private static Set<String> exposedMetrics;
  private static Set<String> bpfNames;
  private static String corpus;
  private static Map<String, Object> chartValues;

  @BeforeAll
  static void readTheCode() throws IOException {
    exposedMetrics = exposedMetricNames(instruments());
    bpfNames = new TreeSet<>();
    try (Stream<Path> headers = Files.list(REPOSITORY.resolve("bpf/include/gadget"))) {
      for (Path h : headers.toList()) {
        Matcher m = Pattern.compile("\\bgadget_[a-z0-9_]+").matcher(Files.readString(h));
        while (m.find()) {
          bpfNames.add(m.group());
        }
      }
    }
    corpus = stringsOfTheCode();
    chartValues =
        yamlMap(Files.readString(REPOSITORY.resolve("charts/gadget-exporter/values.yaml")));
  }

  @Test
  void theInstrumentScanFindsTheAgentsMetrics() throws IOException {
    // A guard for the scan itself: were it to miss the builders, the checks below would pass on
    // nothing.
    assertThat(instruments()).hasSizeGreaterThan(40);
    assertThat(exposedMetrics)
        .contains(
            "gadget_events_total",
            "gadget_events_lost_total",
            "gadget_ring_buffer_size_bytes",
            "gadget_export_duration_seconds",
            "gadget_program_run_time_seconds_total",
            "gadget_kubernetes_api_up",
            "gadget_config_reloads_total");
  }

  @ParameterizedTest
  @ValueSource(strings = {"docs/troubleshooting.md", "docs/security.md"})
  void everyMetricNamedIsOneTheAgentExposes(String doc) throws IOException {
    Set<String> named = new TreeSet<>();
    Matcher m = Pattern.compile("\\bgadget_[a-z0-9_]+").matcher(read(doc));
    while (m.find()) {
      named.add(m.group());
    }
    assertThat(named).as("metrics named in %s", doc).isNotEmpty();
    for (String name : named) {
      assertThat(exposedMetrics.contains(name) || bpfNames.contains(name))
          .as("%s names %s: no metric the agent exposes (nor a bpf/include/gadget name)", doc, name)
          .isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"docs/troubleshooting.md", "docs/security.md"})
  void everyConfigurationKeyNamedIsOneTheAgentAccepts(String doc) throws IOException {
    Set<String> keys =
        Arrays.stream(ConfigKey.values()).map(ConfigKey::path).collect(Collectors.toSet());
    List<String> named = new ArrayList<>();
    for (String code : inlineCode(read(doc))) {
      String token = code.replaceFirst("^config\\.", "");
      // A key ends the span or is followed by its value (`key: value`), never by a path.
      Matcher m =
          Pattern.compile("^([a-z_]+)(\\[])?\\.[a-z0-9_.\\[\\]]*[a-z0-9_\\]](?=$|[\\s:,=])")
              .matcher(token);
      if (m.find() && CONFIG_SECTIONS.contains(m.group(1))) {
        named.add(m.group());
      }
    }
    assertThat(named).as("configuration keys named in %s", doc).isNotEmpty();
    assertThat(keys).as("configuration keys named in %s", doc).containsAll(named);
  }

  @ParameterizedTest
  @ValueSource(strings = {"docs/troubleshooting.md", "docs/security.md"})
  void everyChartValueNamedIsInValuesYaml(String doc) throws IOException {
    for (String code : inlineCode(read(doc))) {
      Matcher m = Pattern.compile("^([a-zA-Z]+)\\.[a-zA-Z.]*[a-zA-Z]").matcher(code);
      if (!m.find() || !chartValues.containsKey(m.group(1)) || m.group(1).equals("config")) {
        continue;
      }
      Object at = chartValues;
      for (String part : m.group().split("\\.")) {
        assertThat(at).as("%s names the chart value %s", doc, m.group()).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) at).containsKey(part))
            .as("%s names the chart value %s: not in values.yaml", doc, m.group())
            .isTrue();
        at = ((Map<?, ?>) at).get(part);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"docs/troubleshooting.md", "docs/security.md"})
  void everyYamlExampleIsAccepted(String doc) throws IOException {
    for (String block : blocks(read(doc), "yaml")) {
      Map<String, Object> top = yamlMap(block);
      boolean values = top.keySet().stream().anyMatch(k -> !CONFIG_SECTIONS.contains(k));
      if (!values) {
        acceptedByTheAgent(block, doc);
        continue;
      }
      for (String key : top.keySet()) {
        assertThat(chartValues).as("top-level key of a values example in %s", doc).containsKey(key);
      }
      if (top.get("config") instanceof Map<?, ?> config) {
        acceptedByTheAgent(
            new Dump(DumpSettings.builder().build()).dumpToString(config), doc + " (config:)");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"docs/troubleshooting.md", "docs/security.md"})
  void everyQuotedMessageIsMadeOfTheAgentsOwnStrings(String doc) throws IOException {
    List<String> blocks = blocks(read(doc), "log");
    assertThat(blocks).as("log blocks in %s", doc).isNotEmpty();
    for (String block : blocks) {
      for (String line : block.lines().toList()) {
        for (String piece : pieces(line)) {
          assertThat(coveredByTheCode(piece))
              .as("%s quotes \"%s\"; not a message of the agent (in: %s)", doc, piece, line)
              .isTrue();
        }
      }
    }
  }

  /** The message check can fail: a sentence the agent never writes is refused. */
  @Test
  void aMessageTheAgentNeverWritesIsRefused() {
    assertThat(pieces("the gadgets could not be loaded because the kernel is too strict"))
        .noneMatch(TroubleshootingDocumentationTest::coveredByTheCode);
    assertThat(pieces("this kernel exposes no BTF at /sys/kernel/btf/vmlinux: install it"))
        .anyMatch(p -> !coveredByTheCode(p));
    // One word changed in a real message.
    assertThat(
            pieces(
                "cannot read /proc/1/ns/mnt (the agent requires the host's pid namespace, hostPID,"
                    + " and CAP_SYS_PTRACE): taking the agent's own namespaces as the host's"))
        .anyMatch(p -> !coveredByTheCode(p));
    assertThat(
            pieces(
                "cannot read /proc/1/ns/mnt (the agent needs the host's pid namespace, hostPID,"
                    + " and CAP_SYS_PTRACE): taking the agent's own namespaces as the host's"))
        .allMatch(TroubleshootingDocumentationTest::coveredByTheCode);
  }

  // ---- the metrics the agent exposes

  /** An instrument the agent's source builds: its kind, OpenTelemetry name and unit. */
  record Instrument(String kind, String name, String unit) {}

  private static final Pattern BUILDER =
      Pattern.compile(
          "\\.(counterBuilder|upDownCounterBuilder|gaugeBuilder|histogramBuilder)"
              + "\\(\"(gadget\\.[a-z0-9_.]+)\"\\)");
  private static final Pattern UNIT = Pattern.compile("\\.setUnit\\(\"([^\"]*)\"\\)");

  /** Telemetry's helper for per-instance counters: (meter, name, description..., unit, ...). */
  private static final Pattern PER_INSTANCE_COUNTER =
      Pattern.compile(
          "perInstanceCounter\\(\\s*meter,\\s*\"(gadget\\.[a-z0-9_.]+)\",\\s*"
              + "(?:\"(?:[^\"\\\\]|\\\\.)*\"\\s*\\+?\\s*)+,\\s*\"([^\"]*)\"");

  static List<Instrument> instruments() throws IOException {
    List<Instrument> found = new ArrayList<>();
    for (Path file : javaSources()) {
      String text = Files.readString(file);
      Matcher b = BUILDER.matcher(text);
      while (b.find()) {
        int end = text.indexOf(".build", b.end());
        Matcher u = UNIT.matcher(text.substring(b.end(), end < 0 ? text.length() : end));
        found.add(new Instrument(b.group(1), b.group(2), u.find() ? u.group(1) : ""));
      }
      Matcher p = PER_INSTANCE_COUNTER.matcher(text);
      while (p.find()) {
        found.add(new Instrument("counterBuilder", p.group(1), p.group(2)));
      }
    }
    // The per-container event counter is not an instrument but points the agent builds itself
    // (EventMetricsProducer): a monotonic sum, counted in events.
    found.add(new Instrument("counterBuilder", EventMetrics.EVENTS, "{event}"));
    return found;
  }

  /** The names Prometheus sees: each instrument built in the agent's Prometheus reader. */
  static Set<String> exposedMetricNames(List<Instrument> instruments) throws IOException {
    PrometheusMetricReader reader = PrometheusMetricReader.builder().build();
    try (SdkMeterProvider provider =
        SdkMeterProvider.builder().registerMetricReader(reader).build()) {
      Meter meter = provider.get("documentation");
      for (Instrument i : instruments) {
        switch (i.kind()) {
          case "counterBuilder" ->
              meter.counterBuilder(i.name()).setUnit(i.unit()).build().add(1);
          case "upDownCounterBuilder" ->
              meter.upDownCounterBuilder(i.name()).setUnit(i.unit()).build().add(1);
          case "gaugeBuilder" -> meter.gaugeBuilder(i.name()).setUnit(i.unit()).build().set(1);
          case "histogramBuilder" ->
              meter.histogramBuilder(i.name()).setUnit(i.unit()).build().record(1);
          default -> throw new AssertionError(i.kind());
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, reader.collect());
      Set<String> names = new TreeSet<>();
      for (String line : out.toString(StandardCharsets.UTF_8).lines().toList()) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String name = line.split("[{ ]", 2)[0];
        names.add(name);
        // A histogram is named by its family in the pages: gadget_export_duration_seconds.
        names.add(name.replaceFirst("_(bucket|sum|count)$", ""));
      }
      return names;
    }
  }

  // ---- the agent's strings

  /**
   * Every string literal of the agent's Java and C sources (concatenated pieces joined, C format
   * conversions cut out) and the chart's messages, one per line.
   */
  private static String stringsOfTheCode() throws IOException {
    StringBuilder out = new StringBuilder();
    Pattern literal = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");
    for (Path file : javaSources()) {
      String text = Files.readString(file).replaceAll("\"\\s*\\+\\s*\"", "");
      Matcher m = literal.matcher(text);
      while (m.find()) {
        out.append(unescape(m.group(1))).append('\n');
      }
    }
    for (Path file : sources(REPOSITORY.resolve("jni/src/main/c"), ".c")) {
      String text = Files.readString(file).replaceAll("\"\\s+\"", "");
      Matcher m = literal.matcher(text);
      while (m.find()) {
        String s = unescape(m.group(1)).replaceAll("%[-+ #0-9.*]*(?:ll|l|z|h)?[sdiuxXcp]", "\n");
        out.append(s).append('\n');
      }
    }
    // Label values made from enum constants: READ_FAILED is reason="read_failed".
    for (Path file : javaSources()) {
      Matcher m =
          Pattern.compile("\\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\\b").matcher(Files.readString(file));
      while (m.find()) {
        out.append(m.group().toLowerCase(java.util.Locale.ROOT)).append('\n');
      }
    }
    out.append(Files.readString(REPOSITORY.resolve("charts/gadget-exporter/templates/NOTES.txt")));
    return out.toString();
  }

  private static String unescape(String s) {
    return s.replace("\\\"", "\"").replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\");
  }

  /**
   * The literal parts of a quoted line: what varies is cut out ({@code <…>}, an errno's text such
   * as "Operation not permitted (EPERM)", absolute paths, numbers), and so are the " — " joints
   * between a message and its hint; parts shorter than 10 characters say nothing and are dropped.
   */
  static List<String> pieces(String line) {
    String cut =
        line.replaceAll("<[^>]*>", "\n")
            .replaceAll("[A-Z][a-z]+(?: [a-z]+)* \\(E[A-Z0-9]+\\)", "\n")
            .replaceAll("(?<![\\w.])/[\\w.@-]+(?:/[\\w.@-]*)*", "\n")
            .replaceAll("(?<![A-Za-z_])\\d+(?![A-Za-z_])", "\n")
            .replace(" — ", "\n");
    List<String> out = new ArrayList<>();
    for (String p : cut.split("\n")) {
      String edge = "[\\s.,;:()'\"\\[\\]{}—…+-]+";
      String t = p.replaceAll("^" + edge + "|" + edge + "$", "");
      if (t.length() >= 10) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Whether the piece is the agent's text: the concatenation of a few of its strings (a message is
   * built from a format and values, or from several literals), one per 20 characters at most, each
   * after the first long or mere punctuation. A paraphrase, even of one word, needs short words
   * found elsewhere.
   */
  static boolean coveredByTheCode(String piece) {
    int n = piece.length();
    // longest[i]: the end of the longest part starting at i that the code has (its prefixes it
    // has too, so every end up to it is possible).
    int[] longest = new int[n];
    for (int i = 0; i < n; i++) {
      int lo = i;
      int hi = n;
      while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (corpus.contains(piece.substring(i, mid))) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      longest[i] = lo;
    }
    // fewest[j]: the fewest parts that make up the first j characters, the rule kept.
    int[] fewest = new int[n + 1];
    Arrays.fill(fewest, Integer.MAX_VALUE);
    fewest[0] = 0;
    for (int i = 0; i < n; i++) {
      if (fewest[i] == Integer.MAX_VALUE) {
        continue;
      }
      for (int j = i + 1; j <= longest[i]; j++) {
        // After the first, a short part with a letter is a word found somewhere else in the
        // code: a reworded message. Joints of real ones are long literals, or punctuation (" [").
        String part = piece.substring(i, j);
        if (i > 0 && part.length() < 10 && part.chars().anyMatch(Character::isLetter)) {
          continue;
        }
        fewest[j] = Math.min(fewest[j], fewest[i] + 1);
      }
    }
    return fewest[n] <= 1 + n / 20;
  }

  // ---- the agent's configuration

  private void acceptedByTheAgent(String configYaml, String where) {
    assertThatCode(() -> AgentAcceptance.check(configYaml, where, NODE_ENV))
        .as("example in %s:%n%s", where, configYaml)
        .doesNotThrowAnyException();
  }

  // ---- reading the pages and the code

  private static String read(String doc) throws IOException {
    return Files.readString(REPOSITORY.resolve(doc));
  }

  /** The text of every inline code span outside fenced blocks. */
  private static List<String> inlineCode(String doc) {
    List<String> spans = new ArrayList<>();
    boolean fenced = false;
    for (String line : doc.lines().toList()) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        continue;
      }
      Matcher m = Pattern.compile("`([^`]+)`").matcher(line);
      while (m.find()) {
        spans.add(m.group(1));
      }
    }
    return spans;
  }

  /** The fenced blocks of a language, dedented (a block may sit in a list item). */
  private static List<String> blocks(String doc, String language) {
    List<String> out = new ArrayList<>();
    StringBuilder current = null;
    String indent = "";
    for (String line : doc.lines().toList()) {
      String stripped = line.strip();
      if (current == null && stripped.equals("```" + language)) {
        current = new StringBuilder();
        indent = line.substring(0, line.indexOf('`'));
      } else if (current != null && stripped.equals("```")) {
        out.add(current.toString());
        current = null;
      } else if (current != null) {
        current.append(line.startsWith(indent) ? line.substring(indent.length()) : line);
        current.append('\n');
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yamlMap(String text) {
    Object o = new Load(LoadSettings.builder().build()).loadFromString(text);
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : new LinkedHashMap<>();
  }

  private static List<Path> javaSources() throws IOException {
    List<Path> all =
        new ArrayList<>(sources(REPOSITORY.resolve("exporter/src/main/java"), ".java"));
    all.addAll(sources(REPOSITORY.resolve("jni/src/main/java"), ".java"));
    return all;
  }

  private static List<Path> sources(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(f -> f.toString().endsWith(suffix)).sorted().toList();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
