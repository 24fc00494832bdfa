package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfField.Kind;
import io.gadgetexporter.bpf.BtfStruct;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A log2 histogram field (an aggregating gadget's row, as profile_blockio has) feeding a histogram
 * metric: each slot's count lands, as one weighted observation, in the bucket covering the slot.
 */
class HistogramFieldMetricTest {
  // struct row { gadget_dev dev; gadget_block_op op; gadget_histogram_slot latency[4]; }
  private static final GadgetSpec SPEC =
      GadgetSpec.parse(
          """
          name: demo
          description: A hand-made row.
          event: row
          fields:
            dev: {}
            op: {}
            latency: {unit: us}
          """,
          "demo.yaml");

  private static EventSchema schema() {
    return EventSchema.of(
        new BtfStruct(
            "row",
            40,
            List.of(
                new BtfField("dev", 0, 4, Kind.INT, "gadget_dev", false, null, 0, 0),
                new BtfField("op", 4, 4, Kind.INT, "gadget_block_op", false, null, 0, 0),
                new BtfField(
                    "latency", 8, 32, Kind.ARRAY, null, false, Kind.INT, 8, 4, "unsigned long long",
                    64, 0, "gadget_histogram_slot"))),
        SPEC);
  }

  private static AgentConfig config(String metric) {
    return ConfigLoader.parse(
        """
        gadgets:
          - name: io
            gadget: profile_blockio
            metrics:
        """
            + metric,
        "agent.yaml",
        Map.of());
  }

  @Test
  void slotsLandInTheirBucketsWeightedByTheirCounts() {
    AgentConfig config =
        config(
            """
                  - name: block_io.latency
                    type: histogram
                    value: latency
                    unit: s
                    labels: [dev, op]
                    buckets: [0.000002, 0.000004, 0.000008, 0.000016]
            """);
    EventSchema schema = schema();
    EventMetrics metrics =
        EventMetrics.compile(
            config.gadgets().get(0), "profile_blockio", schema, "block_io.latency",
            config.metrics(), System::nanoTime);
    ByteBuffer row = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
    row.putInt(0, 7 << 20).putInt(4, 1);
    row.putLong(8, 3).putLong(16, 5).putLong(24, 0).putLong(32, 7); // 0-1, 2-3, 8+ us
    EventView view = new EventView(schema, BootClock.system());
    assertThat(view.bind(row, 0, 40)).isTrue();
    assertThat(view.text(schema.field("dev").orElseThrow())).isEqualTo("7:0");
    assertThat(view.text(schema.field("op").orElseThrow())).isEqualTo("write");
    assertThat(view.text(schema.field("latency").orElseThrow())).isEqualTo("0-1us:3 2-3us:5 8+us:7");
    assertThat(view.value(schema.field("latency").orElseThrow())).isEqualTo(List.of(3L, 5L, 0L, 7L));

    metrics.accept(null, view);
    metrics.accept(null, view); // a second interval's row adds up

    MetricTable table =
        metrics.tables().stream().filter(t -> t.name.equals("block_io.latency")).findFirst().orElseThrow();
    MetricTable.Series series = table.series.values().iterator().next();
    MetricTable.HistogramSnapshot h = series.histogram();
    // Representatives 1, 3 and 12 us: buckets <=2us, <=4us and <=16us.
    assertThat(h.counts()).containsExactly(6, 10, 0, 14, 0);
    assertThat(h.count()).isEqualTo(30);
    assertThat(h.sum()).isCloseTo(2 * (3 * 1e-6 + 5 * 3e-6 + 7 * 12e-6), within());
    assertThat(h.min()).isCloseTo(1e-6, within());
    assertThat(h.max()).isCloseTo(12e-6, within());
    assertThat(series.attributes.asMap().values()).contains("7:0", "write");
  }

  @Test
  void aHistogramFieldFeedsOnlyAHistogram() {
    AgentConfig config =
        config(
            """
                  - name: block_io.latency
                    type: gauge
                    value: latency
            """);
    assertThatThrownBy(
            () ->
                EventMetrics.compile(
                    config.gadgets().get(0), "profile_blockio", schema(), "block_io.latency",
                    config.metrics(), System::nanoTime))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'latency' is not numeric (histogram)")
        .hasMessageContaining("a histogram field feeds only a histogram");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-12);
  }
}
