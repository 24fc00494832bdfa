package io.gadgetexporter.export;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigName;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.config.MetricConfig;
import io.gadgetexporter.config.MetricsConfig;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.FieldFormat;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.api.common.Attributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The metrics one instance derives from its events: the implicit {@code gadget.events} count per
 * container, and those its config lists. An {@link EventSink} on the instance's drain thread.
 */
public final class EventMetrics implements EventSink {
  /** The implicit metric every instance has. */
  public static final String EVENTS = "gadget.events";

  private static final Set<FieldFormat> NUMERIC =
      EnumSet.of(FieldFormat.NUMBER, FieldFormat.BOOL, FieldFormat.SYSCALL_RET, FieldFormat.ERRNO);

  private final String instance;
  private final List<MetricTable> tables;

  private EventMetrics(String instance, List<MetricTable> tables) {
    this.instance = instance;
    this.tables = List.copyOf(tables);
  }

  /**
   * Checks the instance's metrics against its gadget's fields and builds their tables.
   *
   * @throws ConfigException naming the file, line and key of each metric that cannot be built (a
   *     label that is not a field, a histogram of a string)
   */
  public static EventMetrics compile(
      InstanceConfig config,
      String gadgetName,
      EventSchema schema,
      String eventName,
      MetricsConfig settings,
      LongSupplier epochNanos) {
    Attributes common =
        Attributes.of(AttributeNames.INSTANCE, config.name(), AttributeNames.GADGET, gadgetName);
    List<MetricTable> tables = new ArrayList<>();
    String[] defaultContainerLabels = settings.containerLabels().toArray(String[]::new);
    tables.add(
        new MetricTable(
            EVENTS,
            "Events the instance's gadget delivered, by container: decoded, enriched and passed to"
                + " the outputs.",
            "{event}",
            MetricTable.Kind.COUNTER,
            common,
            defaultContainerLabels,
            new EventField[0],
            new String[0],
            null,
            1,
            null,
            settings.maxSeries(),
            epochNanos));
    List<ConfigException.Problem> problems = new ArrayList<>();
    for (MetricConfig m : config.metrics()) {
      int before = problems.size();
      List<EventField> labels = new ArrayList<>();
      List<String> labelNames = new ArrayList<>();
      for (ConfigName label : m.labels()) {
        EventField f = schema.configuredField(label, problems);
        if (f != null) {
          labels.add(f);
          labelNames.add(AttributeNames.of(f, eventName));
        }
      }
      EventField value = null;
      if (m.value().isPresent()) {
        value = schema.configuredField(m.value().get(), problems);
        // A log2 histogram field feeds a histogram metric: its slots go into the metric's buckets.
        boolean slots =
            value != null
                && value.format() == FieldFormat.HISTOGRAM
                && m.type() == MetricConfig.Type.HISTOGRAM;
        if (value != null && !slots && !NUMERIC.contains(value.format())) {
          problems.add(
              m.value()
                  .get()
                  .problem(
                      "'"
                          + value.name()
                          + "' is not numeric ("
                          + value.format().name().toLowerCase()
                          + "); a "
                          + m.type().name().toLowerCase()
                          + " measures a number"
                          + (value.format() == FieldFormat.HISTOGRAM
                              ? " (a histogram field feeds only a histogram)"
                              : "")
                          + ". Numeric fields: "
                          + String.join(", ", numericFields(schema))));
        }
      }
      if (problems.size() > before) {
        continue;
      }
      double scale = value == null ? 1 : UnitScale.scale(value.spec().unit(), m.unit());
      String[] containerLabels =
          m.containerLabels().map(l -> l.toArray(String[]::new)).orElse(defaultContainerLabels);
      tables.add(
          new MetricTable(
              m.name(),
              m.description(),
              m.unit(),
              MetricTable.Kind.valueOf(m.type().name()),
              common,
              containerLabels,
              labels.toArray(EventField[]::new),
              labelNames.toArray(String[]::new),
              value,
              scale,
              m.type() == MetricConfig.Type.HISTOGRAM
                  ? m.buckets().stream().mapToDouble(Double::doubleValue).toArray()
                  : null,
              settings.maxSeries(),
              epochNanos));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new EventMetrics(config.name(), tables);
  }

  private static List<String> numericFields(EventSchema schema) {
    return schema.fields().stream()
        .filter(f -> NUMERIC.contains(f.format()))
        .map(EventField::name)
        .toList();
  }

  public String instance() {
    return instance;
  }

  List<MetricTable> tables() {
    return tables;
  }

  @Override
  public void accept(GadgetInstance source, EventView event) {
    for (int i = 0; i < tables.size(); i++) {
      tables.get(i).record(event);
    }
  }
}
