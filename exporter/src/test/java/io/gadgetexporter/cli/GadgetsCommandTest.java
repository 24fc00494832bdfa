package io.gadgetexporter.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.GadgetBuild;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gadget-exporter gadgets}: the catalog as a user reads it, checked against this kernel. */
class GadgetsCommandTest {
  @TempDir Path dir;

  private record Run(int exitCode, String out) {}

  private static Run run(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int code =
        new CommandLine(new GadgetsCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8)))
            .execute(args);
    return new Run(code, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void everyBuiltInGadgetIsListedWithItsFieldsParamsAndThisKernelsAnswer() {
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    JsonArray all = new JsonArray(run("--json").out());

    assertThat(all.stream().map(o -> ((JsonObject) o).getString("name")))
        .containsExactlyElementsOf(catalog.builtInNames());
    for (Object o : all) {
      JsonObject g = (JsonObject) o;
      String name = g.getString("name");
      // This machine runs every built-in gadget (tracepoint-family hooks only): if one is not,
      // the reason is the message.
      assertThat(g.getJsonObject("support").getString("verdict"))
          .as(name + ": " + g.getJsonObject("support").getString("reason"))
          .isEqualTo("yes");
      List<String> schemaFields =
          EventSchema.of(catalog.find(name).orElseThrow()).fields().stream()
              .map(EventField::name)
              .toList();
      assertThat(g.getJsonArray("fields").stream().map(f -> ((JsonObject) f).getString("name")))
          .as(name)
          .containsExactlyElementsOf(schemaFields);
      assertThat(g.getJsonArray("fields"))
          .allSatisfy(f -> assertThat(((JsonObject) f).getString("description")).isNotBlank());
      assertThat(g.getJsonArray("hooks")).as(name).isNotEmpty();
      assertThat(g.getString("description")).isNotBlank();
      // Types as gadget.yaml spells them: lower-case, like the fields' formats.
      assertThat(types(g, "fields"))
          .as(name)
          .allSatisfy(t -> assertThat(t).isEqualTo(t.toLowerCase(Locale.ROOT)));
      assertThat(types(g, "params"))
          .as(name)
          .allSatisfy(t -> assertThat(t).isIn("int", "uint", "bool", "string", "duration"));
    }
    JsonObject exec =
        all.stream().map(o -> (JsonObject) o).filter(g -> g.getString("name").equals("trace_exec"))
            .findFirst().orElseThrow();
    JsonObject maxArgs = exec.getJsonArray("params").getJsonObject(0);
    assertThat(List.of(maxArgs.getString("name"), maxArgs.getString("type")))
        .containsExactly("max_args", "uint");
    assertThat(List.of(maxArgs.getLong("default"), maxArgs.getLong("min"), maxArgs.getLong("max")))
        .containsExactly(20L, 1L, 64L);
    // A duration, its default and its bounds as the config file writes them.
    JsonObject interval =
        params(all, "syscall_count").stream()
            .filter(p -> p.getString("name").equals("interval"))
            .findFirst()
            .orElseThrow();
    assertThat(interval.getString("type")).isEqualTo("duration");
    assertThat(interval.getString("default")).isEqualTo("10s");
    assertThat(interval.getString("min")).isEqualTo("100ms");
  }

  private static List<String> types(JsonObject gadget, String key) {
    return gadget.getJsonArray(key).stream().map(o -> ((JsonObject) o).getString("type")).toList();
  }

  private static List<JsonObject> params(JsonArray all, String gadget) {
    return all.stream()
        .map(JsonObject.class::cast)
        .filter(g -> g.getString("name").equals(gadget))
        .findFirst()
        .orElseThrow()
        .getJsonArray("params")
        .stream()
        .map(JsonObject.class::cast)
        .toList();
  }

  @Test
  void theTextFormShowsDescriptionHooksFieldsAndParameters() {
    Run r = run("trace_exec");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .startsWith("trace_exec — tracer, supported by this kernel\n")
        .contains("  Programs executed with execve")
        .contains("  hooks: ")
        .contains("tracepoint/sched/sched_process_exec")
        .containsPattern("\n    ret +syscall_ret +0 on success, -errno when exec failed.")
        .containsPattern("\n    max_args +uint = 20 +Arguments captured per exec.*\n.*Range: 1..64.");
    assertThat(r.out().lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(100));
  }

  @Test
  void briefListsOneLinePerGadget() {
    Run r = run("--brief");

    assertThat(r.out().lines()).hasSize(GadgetCatalog.builtIn().builtInNames().size());
    assertThat(r.out()).containsPattern("(?m)^trace_open +tracer +supported +Files opened with open")
        .containsPattern("(?m)^syscall_count +aggregate +supported ")
        .containsPattern("(?m)^snapshot_process +snapshot +supported ");
  }

  @Test
  void aGadgetDirectoryIsListedAndAMissingRequiredHookSaysWhyItCannotRun() throws Exception {
    Path example = GadgetBuild.repositoryRoot().resolve("examples/trace_unlink");
    Path built = GadgetBuild.make(example, dir.resolve("good"));

    Run good = run(built.toString());
    assertThat(good.out())
        .startsWith("trace_unlink (" + built + ") — tracer, supported by this kernel")
        .containsPattern("failed_only +bool = false");

    // The same gadget with one hook this kernel does not have: as a required program...
    Path source = GadgetBuild.copyWithTracepoint(example, dir.resolve("src-required"), "sys_exit_unlinkat", "sys_exit_no_such_call");
    Run required = run(GadgetBuild.make(source, dir.resolve("required")).toString());
    assertThat(required.exitCode()).isZero();
    assertThat(required.out())
        .contains("NOT supported by this kernel: program 'exit_unlinkat':")
        .contains("tracepoint/syscalls/sys_exit_no_such_call cannot be attached");

    // ... and as an optional one: it runs without it, and says so.
    Path optional = GadgetBuild.copyWithTracepoint(example, dir.resolve("src-optional"), "sys_exit_rmdir", "sys_exit_no_such_call");
    Run withNote = run(GadgetBuild.make(optional, dir.resolve("optional")).toString());
    assertThat(withNote.out())
        .contains("— tracer, supported by this kernel")
        .contains("note: runs without program 'exit_rmdir'");
  }

  @Test
  void noCheckLeavesTheKernelAlone() {
    assertThat(run("--no-check", "--brief", "trace_open").out())
        .startsWith("trace_open         tracer     not checked");
  }

  @Test
  void anUnknownGadgetIsAUsageError() {
    assertThat(run("trace_nothing").exitCode()).isEqualTo(Main.EXIT_CONFIG);
  }
}
