package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** gadget.yaml: what a gadget author gets told when the description is wrong. */
class GadgetSpecTest {
  private static final String HEAD = "name: g\ndescription: d\nevent: event\nfields:\n  pid: {}\n";

  @Test
  void parsesFieldsParamsAndOptionalPrograms() {
    GadgetSpec spec =
        GadgetSpec.parse(
            HEAD
                + "optionalPrograms: [exit_open]\n"
                + "params:\n  max_args: {type: uint, default: 20, min: 1, max: 64, description: n}\n",
            "g.yaml");
    assertThat(spec.eventName()).isEqualTo("g");
    assertThat(spec.field("pid").orElseThrow().width()).isEqualTo(8);
    assertThat(spec.optionalPrograms()).containsExactly("exit_open");
    ParamSpec p = spec.param("max_args").orElseThrow();
    assertThat(p.defaultValue()).isEqualTo(20L);
    assertThat(p.problemWith(65L)).isEqualTo("must be at most 64, got 65");
    assertThat(p.problemWith("0x10")).isNull();
    assertThat(p.convert("0x10")).isEqualTo(16L);
  }

  @Test
  void durationParamsAreWrittenAsTheConfigWritesDurations() {
    GadgetSpec spec =
        GadgetSpec.parse(
            HEAD + "params:\n  interval: {type: duration, default: 5s, min: 100ms, max: 1m}\n",
            "g.yaml");
    ParamSpec p = spec.param("interval").orElseThrow();
    assertThat(p.defaultValue()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(p.problemWith("250ms")).isNull();
    assertThat(p.convert("2m")).isEqualTo(java.time.Duration.ofMinutes(2));
    assertThat(p.problemWith("2m")).isEqualTo("must be at most 1m, got 2m");
    assertThat(p.problemWith("10ms")).isEqualTo("must be at least 100ms, got 10ms");
    assertThat(p.problemWith("5")).contains("has no unit");
    assertThat(p.problemWith(5L)).isEqualTo("must be a duration such as 10s, got '5'");
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    HEAD + "params:\n  interval: {type: duration, default: 5s, min: 1x}\n",
                    "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageStartingWith("g.yaml: params.interval.min: ");
  }

  @Test
  void snapshotSectionMakesASnapshotGadget() {
    assertThat(GadgetSpec.parse(HEAD, "g.yaml").snapshot()).as("a tracer").isNull();
    assertThat(GadgetSpec.parse(HEAD + "snapshot: {}\n", "g.yaml").snapshot())
        .isEqualTo(new SnapshotSpec(java.util.List.of(), null, java.util.List.of()));
    assertThat(
            GadgetSpec.parse(
                    HEAD
                        + "snapshot:\n  prepare: [owners]\n  networkNamespaces: netns\n"
                        + "  clear: [owner_map]\n",
                    "g.yaml")
                .snapshot())
        .isEqualTo(
            new SnapshotSpec(java.util.List.of("owners"), "netns", java.util.List.of("owner_map")));
    assertThatThrownBy(() -> GadgetSpec.parse(HEAD + "snapshot:\n  every: 1s\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage(
            "g.yaml: snapshot.every: unknown key (known: prepare, networkNamespaces, clear)");
    assertThatThrownBy(() -> GadgetSpec.parse(HEAD + "snapshot:\n  prepare: owners\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage("g.yaml: snapshot.prepare: must be a list of names");
    assertThatThrownBy(() -> GadgetSpec.parse(HEAD + "snapshot: yes\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageStartingWith("g.yaml: snapshot: must be a mapping");
    assertThat(GadgetSpec.parse(HEAD + "snapshot: {}\n", "g.yaml").agentParams())
        .containsExactly("interval");
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    AGGREGATE + "snapshot: {}\nmapSizes: {stats: map_entries}\n" + AGGREGATE_PARAMS,
                    "a.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage(
            "a.yaml: snapshot: a gadget is aggregating (aggregate:) or a snapshot, not both");
  }

  @Test
  void unknownKeyIsNamed() {
    assertThatThrownBy(() -> GadgetSpec.parse(HEAD + "evnt: x\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageStartingWith("g.yaml: evnt: unknown key");
  }

  @Test
  void missingRequiredKeyIsNamed() {
    assertThatThrownBy(() -> GadgetSpec.parse("name: g\nfields: {}\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage("g.yaml: description: is required");
  }

  @Test
  void defaultOutsideItsOwnRangeIsRejected() {
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    HEAD + "params:\n  n: {type: uint, default: 0, min: 1}\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage("g.yaml: params.n.default: must be at least 1, got 0");
  }

  @Test
  void unknownParamTypeIsRejected() {
    assertThatThrownBy(
            () -> GadgetSpec.parse(HEAD + "params:\n  n: {type: float, default: 1}\n", "g.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("unknown type 'float'");
  }

  private static final String AGGREGATE =
      "name: a\ndescription: d\naggregate: {map: stats, key: k, value: v, sortBy: [-n, pid]}\n"
          + "fields:\n  pid: {}\n  n: {}\n";
  private static final String AGGREGATE_PARAMS =
      "params:\n"
          + "  interval: {type: duration, default: 10s}\n"
          + "  max_rows: {type: uint, default: 100}\n"
          + "  map_entries: {type: uint, default: 1024}\n";

  @Test
  void anAggregatingGadgetNamesItsMapStructsAndSortOrder() {
    GadgetSpec spec =
        GadgetSpec.parse(
            AGGREGATE + "mapSizes: {stats: map_entries}\n" + AGGREGATE_PARAMS, "a.yaml");
    assertThat(spec.isAggregate()).isTrue();
    assertThat(spec.eventStruct()).isEmpty();
    assertThat(spec.aggregate().map()).isEqualTo("stats");
    assertThat(spec.aggregate().keyStruct()).isEqualTo("k");
    assertThat(spec.aggregate().valueStruct()).isEqualTo("v");
    assertThat(spec.aggregate().sortBy())
        .containsExactly(
            new AggregateSpec.SortKey("n", true), new AggregateSpec.SortKey("pid", false));
    assertThat(spec.mapSizes()).containsEntry("stats", "map_entries");
    assertThat(spec.agentParams()).containsExactlyInAnyOrder("interval", "max_rows", "map_entries");
  }

  @Test
  void anAggregatingGadgetMustDeclareWhatTheAgentReads() {
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    AGGREGATE
                        + "mapSizes: {stats: map_entries}\n"
                        + "params:\n  map_entries: {type: uint, default: 1}\n",
                    "a.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage(
            "a.yaml: params: an aggregating gadget declares 'interval' of type duration (the agent"
                + " reads it; its default and bounds are the gadget's)");
    assertThatThrownBy(() -> GadgetSpec.parse(AGGREGATE + AGGREGATE_PARAMS, "a.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageStartingWith("a.yaml: mapSizes: an aggregating gadget sizes its map 'stats'");
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    AGGREGATE + "event: e\nmapSizes: {stats: map_entries}\n" + AGGREGATE_PARAMS,
                    "a.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessageStartingWith("a.yaml: event: an aggregating gadget");
    assertThatThrownBy(
            () ->
                GadgetSpec.parse(
                    AGGREGATE + "mapSizes: {stats: interval}\n" + AGGREGATE_PARAMS, "a.yaml"))
        .isInstanceOf(GadgetException.class)
        .hasMessage("a.yaml: mapSizes.stats: 'interval' must be a parameter of type uint");
  }
}
