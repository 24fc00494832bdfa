package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final Map<String, String> NO_ENV = Map.of();

  private static AgentConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, "config.yaml", NO_ENV);
  }

  /** The lines of the error message: one per problem, {@code file:line:column: key: message}. */
  private static List<String> errors(String yaml) {
    return errors(yaml, NO_ENV);
  }

  private static List<String> errors(String yaml, Map<String, String> env) {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class, () -> ConfigLoader.parse(yaml, "config.yaml", env));
    assertThat(e).as("expected a ConfigException for:%n%s", yaml).isNotNull();
    assertThat(e.problems()).hasSize(e.getMessage().split("\n").length);
    return List.of(e.getMessage().split("\n"));
  }

  // ---- good configs -----------------------------------------------------------------------

  @Test
  void readsEveryKey() {
    AgentConfig config =
        parse(
            """
            http:
              listen: 127.0.0.1:9100
            gadgets:
              - name: exec-long-args
                gadget: trace_exec
                params:
                  max_args: 40
                  ignore_failed: true
                  ratio: 0.5
                  prefix: "/usr"
                ring_buffer:
                  size: 16MiB
                  wakeup_bytes: 2MiB
                  drain_interval: 250ms
              - gadget: ./gadgets/my_gadget
            """);

    assertThat(config.source()).isEqualTo("config.yaml");
    assertThat(config.http()).isEqualTo(new HttpConfig("127.0.0.1", 9100));
    assertThat(config.gadgets()).hasSize(2);

    InstanceConfig exec = config.gadgets().get(0);
    assertThat(exec.name()).isEqualTo("exec-long-args");
    assertThat(exec.gadget()).isEqualTo("trace_exec");
    assertThat(exec.isBuiltIn()).isTrue();
    assertThat(exec.keyPath()).isEqualTo("gadgets[0]");
    assertThat(exec.location()).isEqualTo(new ConfigLocation("config.yaml", 4, 5));
    assertThat(exec.gadgetLocation()).isEqualTo(new ConfigLocation("config.yaml", 5, 13));
    assertThat(exec.params().keySet())
        .containsExactly("max_args", "ignore_failed", "ratio", "prefix");
    assertThat(exec.params().get("max_args"))
        .isEqualTo(
            new ParamValue(
                "max_args",
                40L,
                "40",
                "gadgets[0].params.max_args",
                new ConfigLocation("config.yaml", 7, 17)));
    assertThat(exec.params().get("ignore_failed").value()).isEqualTo(true);
    assertThat(exec.params().get("ratio").value()).isEqualTo(0.5);
    assertThat(exec.params().get("prefix").value()).isEqualTo("/usr");
    assertThat(exec.ringBuffer())
        .isEqualTo(new RingBufferConfig(16 * Units.MIB, 2 * Units.MIB, Duration.ofMillis(250)));

    InstanceConfig custom = config.gadgets().get(1);
    assertThat(custom.name()).isEqualTo("my_gadget");
    assertThat(custom.isBuiltIn()).isFalse();
    assertThat(custom.ringBuffer()).isEqualTo(RingBufferConfig.defaults());
    assertThat(config.gadget("my_gadget")).contains(custom);
  }

  @Test
  void fillsDefaults() {
    AgentConfig config = parse("gadgets:\n  - gadget: trace_open\n");

    assertThat(config.http()).isEqualTo(HttpConfig.DEFAULT);
    assertThat(config.http().listenAddress()).isEqualTo("0.0.0.0:9464");
    InstanceConfig open = config.gadgets().get(0);
    assertThat(open.name()).as("defaults to the gadget name").isEqualTo("trace_open");
    assertThat(open.params()).isEmpty();
    assertThat(open.ringBuffer().sizeBytes()).isEqualTo(8 * Units.MIB);
    assertThat(open.ringBuffer().wakeupBytes()).isEqualTo(1 * Units.MIB);
    assertThat(open.ringBuffer().drainInterval()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void emptySectionsMeanDefaults() {
    AgentConfig config =
        parse(
            """
            http:
            gadgets:
              - gadget: trace_open
                params:
                ring_buffer:
            """);

    assertThat(config.http()).isEqualTo(HttpConfig.DEFAULT);
    assertThat(config.gadgets().get(0).params()).isEmpty();
    assertThat(config.gadgets().get(0).ringBuffer()).isEqualTo(RingBufferConfig.defaults());
  }

  @Test
  void smallRingBufferGetsAProportionateWakeupThreshold() {
    AgentConfig config =
        parse("gadgets:\n  - gadget: trace_open\n    ring_buffer: {size: 256KiB}\n");

    assertThat(config.gadgets().get(0).ringBuffer().wakeupBytes()).isEqualTo(64 * Units.KIB);
  }

  @Test
  void withoutGadgetsRunsTheDefaultGadgets() {
    AgentConfig config = parse("http:\n  listen: '[::]:9464'\n");

    assertThat(config.http()).isEqualTo(new HttpConfig("::", 9464));
    assertThat(config.gadgets()).isEqualTo(ConfigLoader.loadDefault().gadgets());
  }

  @Test
  void anEmptyFileIsTheDefaultConfiguration() {
    AgentConfig config = parse("# nothing yet\n");

    assertThat(config.http()).isEqualTo(HttpConfig.DEFAULT);
    assertThat(config.gadgets()).isEqualTo(ConfigLoader.loadDefault().gadgets());
  }

  @Test
  void embeddedDefaultRunsExecAndOpenOnTheWholeHost() {
    AgentConfig config = ConfigLoader.loadDefault();

    assertThat(config.source()).isEqualTo(ConfigLoader.EMBEDDED_DEFAULT);
    assertThat(config.http()).isEqualTo(HttpConfig.DEFAULT);
    assertThat(config.gadgets())
        .extracting(InstanceConfig::name, InstanceConfig::gadget)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("exec", "trace_exec"),
            org.assertj.core.groups.Tuple.tuple("open", "trace_open"));
    assertThat(config.gadgets()).allSatisfy(g -> assertThat(g.params()).isEmpty());
    assertThat(config.gadgets())
        .allSatisfy(g -> assertThat(g.ringBuffer()).isEqualTo(RingBufferConfig.defaults()));
    assertThat(config.gadgets().get(0).location().file()).isEqualTo("<embedded default>");
  }

  @Test
  void paramsAreTypedAfterInterpolation() {
    AgentConfig config =
        ConfigLoader.parse(
            """
            gadgets:
              - gadget: trace_exec
                params:
                  from_env: ${MAX_ARGS}
                  from_default: ${UNSET:-7}
                  quoted: "${MAX_ARGS}"
                  tagged: !!str 12
                  hex: 0x10
                  u64: 18446744073709551615
                  mode: "0644"
                  word: yes
            """,
            "config.yaml",
            Map.of("MAX_ARGS", "32"));

    Map<String, ParamValue> params = config.gadgets().get(0).params();
    assertThat(params.get("from_env").value()).isEqualTo(32L);
    assertThat(params.get("from_env").rawText()).isEqualTo("32");
    assertThat(params.get("from_default").value()).isEqualTo(7L);
    assertThat(params.get("quoted").value()).isEqualTo("32");
    assertThat(params.get("tagged").value()).isEqualTo("12");
    assertThat(params.get("hex").value()).isEqualTo(16L);
    assertThat(params.get("u64").value())
        .as("too big for a long")
        .isEqualTo("18446744073709551615");
    assertThat(params.get("mode").value()).isEqualTo("0644");
    assertThat(params.get("word").value()).as("YAML 1.2: yes is a string").isEqualTo("yes");
  }

  @Test
  void gadgetPathIsRelativeToTheConfigFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("etc/config.yaml");
    Files.createDirectories(file.getParent());
    Files.writeString(
        file, "gadgets:\n  - gadget: ../gadgets/mine/\n  - gadget: /opt/g/abs\n  - gadget: x\n");

    AgentConfig config = ConfigLoader.load(file, NO_ENV);

    assertThat(config.source()).isEqualTo(file.toString());
    assertThat(config.gadgets().get(0).name()).isEqualTo("mine");
    assertThat(config.gadgets().get(0).gadgetDirectory()).contains(dir.resolve("gadgets/mine"));
    assertThat(config.gadgets().get(1).gadgetDirectory()).contains(Path.of("/opt/g/abs"));
    assertThat(config.gadgets().get(2).gadgetDirectory()).isEmpty();
  }

  // ---- each kind of error, with its exact location ----------------------------------------

  @Test
  void unknownKeySuggestsTheNearestKnownKey() {
    assertThat(errors("http:\n  listn: 0.0.0.0:9464\n"))
        .containsExactly(
            "config.yaml:2:3: http.listn: unknown key 'listn'; did you mean 'listen'?");
  }

  @Test
  void unknownKeyWithoutANearOneListsTheKnownKeys() {
    assertThat(errors("gadgets:\n  - gadget: trace_exec\n    outputs: json\n"))
        .containsExactly(
            "config.yaml:3:5: gadgets[0].outputs: unknown key 'outputs'; expected one of: name,"
                + " gadget, params, selector, logs, metrics, optional, redact, ring_buffer");
  }

  @Test
  void unknownKeyThatBelongsElsewhereSaysWhere() {
    assertThat(errors("gadgets:\n  - gadget: trace_exec\n    size: 8MiB\n"))
        .containsExactly(
            "config.yaml:3:5: gadgets[0].size: unknown key 'size'; 'size' belongs under"
                + " gadgets[].ring_buffer; expected one of: name, gadget, params, selector,"
                + " logs, metrics, optional, redact, ring_buffer");
  }

  @Test
  void duplicateYamlKey() {
    assertThat(errors("http:\n  listen: 0.0.0.0:1\n  listen: 0.0.0.0:2\n"))
        .containsExactly(
            "config.yaml:3:3: http.listen: duplicate key (first written at line 2, column 3)");
  }

  @Test
  void duplicateParam() {
    assertThat(errors("gadgets:\n  - gadget: g\n    params:\n      a: 1\n      a: 2\n"))
        .containsExactly(
            "config.yaml:5:7: gadgets[0].params.a: duplicate key (first written at line 4,"
                + " column 7)");
  }

  @Test
  void duplicateInstanceName() {
    assertThat(
            errors(
                """
                gadgets:
                  - name: exec
                    gadget: trace_exec
                  - name: exec
                    gadget: trace_open
                """))
        .containsExactly(
            "config.yaml:4:11: gadgets[1].name: duplicate instance name: 'exec' is already used by"
                + " gadgets[0] (line 2); instance names must be unique");
  }

  @Test
  void duplicateDefaultedInstanceNameAsksForAName() {
    assertThat(errors("gadgets:\n  - gadget: trace_exec\n  - gadget: trace_exec\n"))
        .containsExactly(
            "config.yaml:3:5: gadgets[1]: duplicate instance name: the name defaults to"
                + " 'trace_exec', which is already used by gadgets[0] (line 2); instance names must"
                + " be unique, set 'name'");
  }

  @Test
  void invalidInstanceName() {
    assertThat(errors("gadgets:\n  - name: Exec\n    gadget: trace_exec\n"))
        .containsExactly(
            "config.yaml:2:11: gadgets[0].name: 'Exec' is not a valid instance name: lowercase"
                + " letters, digits, '_' and '-', starting with a letter or digit, at most 63"
                + " characters");
    assertThat(errors("gadgets:\n  - name: " + "a".repeat(64) + "\n    gadget: trace_exec\n"))
        .singleElement()
        .asString()
        .startsWith("config.yaml:2:11: gadgets[0].name: 'aaaa");
  }

  @Test
  void invalidDefaultedInstanceNameAsksForAName() {
    assertThat(errors("gadgets:\n  - gadget: ./My Gadget\n"))
        .containsExactly(
            "config.yaml:2:5: gadgets[0]: the name defaults to the gadget directory's name 'My"
                + " Gadget', which is not a valid instance name: lowercase letters, digits, '_'"
                + " and '-', starting with a letter or digit, at most 63 characters; set 'name'");
  }

  @Test
  void missingGadget() {
    assertThat(errors("gadgets:\n  - name: exec\n"))
        .containsExactly("config.yaml:2:5: gadgets[0]: missing required key 'gadget'");
  }

  @Test
  void badBuiltInGadgetName() {
    assertThat(errors("gadgets:\n  - gadget: Trace Exec\n"))
        .containsExactly(
            "config.yaml:2:13: gadgets[0].gadget: 'Trace Exec' is not a built-in gadget name"
                + " (lowercase letters, digits, '_' and '-'); a path to a gadget directory contains"
                + " '/', e.g. ./Trace Exec");
  }

  @Test
  void emptyGadgetsList() {
    assertThat(errors("gadgets: []\n"))
        .containsExactly(
            "config.yaml:1:10: gadgets: is empty; list at least one gadget instance, or leave the"
                + " key out to run the default gadgets");
    assertThat(errors("gadgets:\n"))
        .singleElement()
        .asString()
        .startsWith("config.yaml:1:9: gadgets: is empty");
  }

  @Test
  void wrongTypes() {
    assertThat(
            errors(
                """
                http: 0.0.0.0:9464
                gadgets:
                  - gadget: [trace_exec]
                    params: max_args
                    ring_buffer:
                      size: {bytes: 1}
                  - trace_open
                """))
        .containsExactly(
            "config.yaml:1:7: http: expected a mapping with keys listen, tls, bearer_token,"
                + " bearer_token_file, unix_socket, stream_queue_events, got '0.0.0.0:9464'",
            "config.yaml:3:13: gadgets[0].gadget: expected a gadget name or path, got a list",
            "config.yaml:4:13: gadgets[0].params: expected a mapping, got 'max_args'",
            "config.yaml:6:13: gadgets[0].ring_buffer.size: expected a size such as 8MiB, got a"
                + " mapping",
            "config.yaml:7:5: gadgets[1]: expected a mapping with at least 'gadget', got"
                + " 'trace_open'");
    assertThat(errors("gadgets: trace_exec\n"))
        .containsExactly(
            "config.yaml:1:10: gadgets: expected a list of gadget instances, got 'trace_exec'");
    assertThat(errors("- gadgets\n"))
        .containsExactly("config.yaml:1:1: expected a mapping with keys http, containers, otlp, resource,"
                + " metrics, kubernetes, redact, gadgets, got a list");
  }

  @Test
  void valueMissing() {
    assertThat(errors("http:\n  listen:\n"))
        .containsExactly("config.yaml:2:10: http.listen: has no value; expected host:port");
    assertThat(errors("gadgets:\n  - gadget: g\n    params:\n      max_args: ~\n"))
        .containsExactly(
            "config.yaml:4:17: gadgets[0].params.max_args: has no value; expected a single value"
                + " (string, number or boolean)");
  }

  @Test
  void badListenAddress() {
    assertThat(errors("http:\n  listen: ::1:9464\n"))
        .containsExactly(
            "config.yaml:2:11: http.listen: an IPv6 address goes in brackets: [::1]:PORT");
    assertThat(errors("http:\n  listen: 0.0.0.0:99999\n"))
        .containsExactly(
            "config.yaml:2:11: http.listen: port '99999' is not a number from 0 to 65535");
  }

  @Test
  void wakeupMustBeSmallerThanSize() {
    assertThat(
            errors(
                """
                gadgets:
                  - name: exec
                    gadget: trace_exec
                  - name: open
                    gadget: trace_open
                    ring_buffer:
                      wakeup_bytes: 8MiB
                """))
        .containsExactly(
            "config.yaml:7:21: gadgets[1].ring_buffer.wakeup_bytes: must be smaller than"
                + " ring_buffer.size (8MiB)");
  }

  @Test
  void ringBufferRules() {
    assertThat(
            errors(
                """
                gadgets:
                  - gadget: trace_exec
                    ring_buffer:
                      size: 10MiB
                      wakeup_bytes: 64MiB
                      drain_interval: 11s
                  - gadget: trace_open
                    ring_buffer: {size: 1KiB, drain_interval: 0ms}
                """))
        .containsExactly(
            "config.yaml:4:13: gadgets[0].ring_buffer.size: must be a power of two (a kernel rule"
                + " for BPF ring buffers), e.g. 8MiB or 16MiB",
            "config.yaml:6:23: gadgets[0].ring_buffer.drain_interval: must be from 1ms to 10s",
            "config.yaml:8:25: gadgets[1].ring_buffer.size: must be at least 4KiB (one page)",
            "config.yaml:8:47: gadgets[1].ring_buffer.drain_interval: must be from 1ms to 10s");
  }

  @Test
  void badSizeAndDurationText() {
    assertThat(
            errors("gadgets:\n  - gadget: g\n    ring_buffer: {size: 8MB, drain_interval: 1.5s}\n"))
        .containsExactly(
            "config.yaml:3:25: gadgets[0].ring_buffer.size: unknown unit 'MB' in '8MB'; sizes use"
                + " B, KiB, MiB or GiB (powers of 1024); did you mean '8MiB'?",
            "config.yaml:3:46: gadgets[0].ring_buffer.drain_interval: '1.5s' is not a whole"
                + " number; use a smaller unit (e.g. 1500ms for 1.5s)");
  }

  @Test
  void yamlSyntaxErrorHasTheSameShape() {
    assertThat(errors("gadgets:\n  - gadget: [trace_exec\n"))
        .containsExactly(
            "config.yaml:3:1: invalid YAML: expected ',' or ']', but got <stream end> (while"
                + " parsing a flow sequence at line 2, column 13)");
    assertThat(errors("http:\n\tlisten: 0.0.0.0:1\n"))
        .singleElement()
        .asString()
        .startsWith("config.yaml:2:1: invalid YAML: found character '\\t(TAB)'");
    assertThat(errors("a: 1\n---\nb: 2\n"))
        .singleElement()
        .asString()
        .startsWith("config.yaml:2:1: invalid YAML: but found another document");
  }

  @Test
  void forbiddenCharacterIsLocated() {
    assertThat(errors("http:\n  listen: a\u0001\n"))
        .containsExactly("config.yaml:2:12: character U+0001 is not allowed in YAML");
  }

  @Test
  void mergeKeysAreRejectedWithAReason() {
    assertThat(errors("base: &b {gadget: trace_exec}\ngadgets:\n  - <<: *b\n"))
        .contains(
            "config.yaml:3:5: gadgets[0].<<: unknown key '<<'; YAML merge keys are not"
                + " supported, write the keys out");
  }

  @Test
  void complexKeysAreRejected() {
    assertThat(errors("? [a, b]\n: 1\n"))
        .containsExactly("config.yaml:1:3: a key must be a plain name, not a list");
  }

  // ---- interpolation through the loader ---------------------------------------------------

  @Test
  void interpolatesEveryScalarValue() {
    AgentConfig config =
        ConfigLoader.parse(
            """
            http:
              listen: ${HOST:-0.0.0.0}:${PORT}
            gadgets:
              - name: ${NAME}
                gadget: trace_exec
                params:
                  price: $$5
                ring_buffer:
                  size: ${SIZE:-4MiB}
            """,
            "config.yaml",
            Map.of("PORT", "9100", "NAME", "exec", "SIZE", ""));

    assertThat(config.http()).isEqualTo(new HttpConfig("0.0.0.0", 9100));
    assertThat(config.gadgets().get(0).name()).isEqualTo("exec");
    assertThat(config.gadgets().get(0).params().get("price").value()).isEqualTo("$5");
    assertThat(config.gadgets().get(0).ringBuffer().sizeBytes())
        .as("empty counts as unset for :-")
        .isEqualTo(4 * Units.MIB);
  }

  @Test
  void unsetVariableIsAnErrorAtItsValue() {
    assertThat(
            errors(
                "http:\n  listen: 0.0.0.0:${PORT}\ngadgets:\n  - gadget: ${GADGET}\n",
                Map.of("OTHER", "x")))
        .containsExactly(
            "config.yaml:2:11: http.listen: environment variable 'PORT' is not set (give a"
                + " default with ${PORT:-value})",
            "config.yaml:4:13: gadgets[0].gadget: environment variable 'GADGET' is not set (give a"
                + " default with ${GADGET:-value})");
  }

  @Test
  void variableThatExpandsToNothingIsAMissingValue() {
    assertThat(errors("http:\n  listen: ${LISTEN}\n", Map.of("LISTEN", "")))
        .containsExactly(
            "config.yaml:2:11: http.listen: has no value (after interpolation); expected"
                + " host:port");
  }

  // ---- many errors at once ----------------------------------------------------------------

  @Test
  void collectsEveryProblemInDocumentOrder() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                parse(
                    """
                    http:
                      listen: localhost
                    gadgets:
                      - name: a
                        gadget: trace_exec
                        ring_buffer: {size: 3MiB}
                      - name: a
                        gadget: trace_open
                        paramz: {}
                    extra: 1
                    """));

    assertThat(e.problems())
        .extracting(p -> p.location().line() + ":" + p.location().column() + " " + p.keyPath())
        .containsExactly(
            "2:11 http.listen",
            "6:25 gadgets[0].ring_buffer.size",
            "7:11 gadgets[1].name",
            "9:5 gadgets[1].paramz",
            "10:1 extra");
    assertThat(e.getMessage().lines()).hasSize(5);
    assertThat(e.getMessage()).contains("did you mean 'params'?");
  }

  // ---- files ------------------------------------------------------------------------------

  @Test
  void loadNamesTheFileInLocations(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, "http:\n  listen: nowhere\n");

    assertThatThrownBy(() -> ConfigLoader.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            file
                + ":2:11: http.listen: 'nowhere' is not host:port; e.g. 0.0.0.0:9464 (every"
                + " interface) or 127.0.0.1:9464");
  }

  @Test
  void missingFile(@TempDir Path dir) {
    Path file = dir.resolve("absent.yaml");

    assertThatThrownBy(() -> ConfigLoader.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": no such file");
  }

  @Test
  void fileThatIsNotUtf8(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("latin1.yaml");
    Files.write(file, "http:\n  listen: caf\u00e9:1\n".getBytes(StandardCharsets.ISO_8859_1));

    assertThatThrownBy(() -> ConfigLoader.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": not valid UTF-8");
  }
}
