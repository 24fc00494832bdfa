package io.gadgetexporter.columns;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.EventViewFixtures;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What a person and a program read: aligned columns and JSON lines. */
class SinksTest {
  private final GadgetInstance instance =
      GadgetTesting.instance("trace_open", "", EventSink.NONE);

  private static EventView event() {
    EventView view = new EventView(EventViewFixtures.schema(), BootClock.fixed(1_000_000_000_000L));
    view.bind(EventViewFixtures.record(5_000_000_000L, -2, 11, "cat\0-n\0file\0"), 0, 88);
    return view;
  }

  @Test
  void columnsHaveAHeaderOnceAndAlignedCells() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ColumnsSink sink = new ColumnsSink(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    sink.accept(instance, event());
    sink.accept(instance, event());
    sink.flush();
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(3);
    assertThat(lines[0]).startsWith("INSTANCE").contains("TS").contains("FLAGS").endsWith("ERR");
    assertThat(lines[1])
        .startsWith("test-trace-open ")
        .contains("1970-01-01T00:16:45.000Z")
        .contains("ENOENT")
        .contains("O_WRONLY|O_CREAT|O_CLOEXEC")
        .contains("cat -n file")
        .endsWith("EACCES");
    // every header cell starts where its values start
    assertThat(lines[0].indexOf("FLAGS")).isEqualTo(lines[1].indexOf("O_WRONLY"));
    assertThat(lines[0]).doesNotContain("ARGS_SIZE"); // hidden
  }

  @Test
  void jsonLinesKeepNumbersAndAddHumanForms() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    JsonSink sink = new JsonSink(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    sink.accept(instance, event());
    sink.flush();
    String line = bytes.toString(StandardCharsets.UTF_8).strip();
    assertThat(line)
        .startsWith("{\"instance\":\"test-trace-open\",\"gadget\":\"trace_open\",")
        .contains("\"ts\":\"1970-01-01T00:16:45Z\",\"ts_raw\":5000000000")
        .contains("\"ret\":-2,\"error\":\"ENOENT\"")
        .contains("\"flags\":524353,\"flags_text\":\"O_WRONLY|O_CREAT|O_CLOEXEC\"")
        .contains("\"mode\":420,\"mode_text\":\"0644\"")
        .contains("\"args\":[\"cat\",\"-n\",\"file\"]")
        .contains("\"cut\":true")
        .endsWith("\"err\":13,\"err_text\":\"EACCES\"}");
  }
}
