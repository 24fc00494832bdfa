package io.gadgetexporter.export;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigName;
import io.gadgetexporter.config.LogsConfig;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.Errno;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.FieldFormat;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One OTLP log record per event of an instance: the gadget's event name ({@code process.exec}),
 * the event's time, the container's attributes and the chosen fields as semantic-convention
 * attributes, numbers kept numbers and argument lists kept lists.
 *
 * <p>Records go to the SDK's logger, whose processor queues them without ever blocking this (the
 * drain) thread: see {@link BoundedLogProcessor}.
 */
public final class LogOutput implements EventSink {
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z0-9_.]+)}");
  private static final int CONTAINER_CACHE_LIMIT = 4096;

  private final Logger logger;
  private final String eventName;
  private final Severity severity;
  private final Attributes common;
  private final EventField timestamp;
  private final EventField[] fields;
  private final AttributeKey<?>[] keys;
  private final List<Object> body; // literal strings and EventFields, in order; empty: no body
  /** Drain thread only: each container's attributes, built once. */
  private final IdentityHashMap<Container, Attributes> containerAttributes = new IdentityHashMap<>();

  private LogOutput(
      Logger logger,
      String eventName,
      Severity severity,
      Attributes common,
      EventField timestamp,
      List<EventField> fields,
      List<String> names,
      List<Object> body) {
    this.logger = logger;
    this.eventName = eventName;
    this.severity = severity;
    this.common = common;
    this.timestamp = timestamp;
    this.fields = fields.toArray(EventField[]::new);
    this.keys = new AttributeKey<?>[fields.size()];
    for (int i = 0; i < this.fields.length; i++) {
      this.keys[i] = keyFor(this.fields[i], names.get(i));
    }
    this.body = List.copyOf(body);
  }

  /**
   * @throws ConfigException when {@code fields}, {@code exclude} or the body name a field the
   *     gadget does not have
   */
  public static LogOutput compile(
      LogsConfig config,
      String instance,
      String gadgetName,
      EventSchema schema,
      String eventName,
      Logger logger) {
    List<ConfigException.Problem> problems = new ArrayList<>();
    Set<EventField> chosen = new LinkedHashSet<>();
    if (config.fields().isEmpty()) {
      schema.fields().stream().filter(f -> !f.hidden()).forEach(chosen::add);
    } else {
      for (ConfigName n : config.fields()) {
        EventField f = schema.configuredField(n, problems);
        if (f != null) {
          chosen.add(f);
        }
      }
    }
    for (ConfigName n : config.exclude()) {
      EventField f = schema.configuredField(n, problems);
      if (f != null) {
        chosen.remove(f);
      }
    }
    EventField timestamp =
        schema.fields().stream()
            .filter(f -> f.format() == FieldFormat.TIMESTAMP)
            .findFirst()
            .orElse(null);
    chosen.remove(timestamp); // it is the record's time, not an attribute
    List<Object> body = new ArrayList<>();
    if (config.body().isPresent()) {
      ConfigName bodyConfig = config.body().get();
      String template = bodyConfig.text();
      Matcher m = PLACEHOLDER.matcher(template);
      int at = 0;
      while (m.find()) {
        body.add(template.substring(at, m.start()));
        EventField f = schema.fieldNamedOrMeaning(m.group(1)).orElse(null);
        if (f == null) {
          problems.add(
              bodyConfig.problem(
                  "'{" + m.group(1) + "}' names no field of this gadget; its fields: "
                      + schema.fieldNames()));
        }
        body.add(f);
        at = m.end();
      }
      body.add(template.substring(at));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<EventField> fields = new ArrayList<>(chosen);
    List<String> names = fields.stream().map(f -> AttributeNames.of(f, eventName)).toList();
    return new LogOutput(
        logger,
        eventName,
        // OpenTelemetry's Severity constants are declared in the order of their numbers.
        Severity.values()[config.severity().number()],
        Attributes.of(AttributeNames.INSTANCE, instance, AttributeNames.GADGET, gadgetName),
        timestamp,
        fields,
        names,
        body);
  }

  private static AttributeKey<?> keyFor(EventField f, String name) {
    return switch (f.format()) {
      case NUMBER, ERRNO, SYSCALL_RET -> AttributeKey.longKey(name);
      case BOOL -> AttributeKey.booleanKey(name);
      case ARGS -> AttributeKey.stringArrayKey(name);
      case HISTOGRAM -> AttributeKey.longArrayKey(name);
      default -> AttributeKey.stringKey(name);
    };
  }

  @Override
  @SuppressWarnings("unchecked")
  public void accept(GadgetInstance instance, EventView event) {
    LogRecordBuilder record =
        logger
            .logRecordBuilder()
            .setEventName(eventName)
            .setSeverity(severity)
            .setSeverityText(severity.name())
            .setAllAttributes(common)
            .setAllAttributes(containerAttributes(event.container()));
    if (timestamp != null) {
      record.setTimestamp(event.getEpochNanos(timestamp), TimeUnit.NANOSECONDS);
    }
    for (int i = 0; i < fields.length; i++) {
      EventField f = fields[i];
      switch (f.format()) {
        case NUMBER -> record.setAttribute((AttributeKey<Long>) keys[i], event.getLong(f));
        case ERRNO -> {
          long errno = event.getLong(f);
          record.setAttribute((AttributeKey<Long>) keys[i], errno);
          if (errno != 0) {
            record.setAttribute(ERROR_TYPE, Errno.name(errno));
          }
        }
        case SYSCALL_RET -> {
          long ret = event.getLong(f);
          record.setAttribute((AttributeKey<Long>) keys[i], ret);
          if (ret < 0) {
            record.setAttribute(ERROR_TYPE, Errno.name(-ret));
          }
        }
        case BOOL -> record.setAttribute((AttributeKey<Boolean>) keys[i], event.getLong(f) != 0);
        case ARGS -> record.setAttribute((AttributeKey<List<String>>) keys[i], event.getArgs(f));
        case HISTOGRAM ->
            record.setAttribute(
                (AttributeKey<List<Long>>) keys[i],
                java.util.Arrays.stream(event.getSlots(f)).boxed().toList());
        default -> record.setAttribute((AttributeKey<String>) keys[i], event.text(f));
      }
    }
    if (!body.isEmpty()) {
      StringBuilder text = new StringBuilder(64);
      for (Object part : body) {
        text.append(part instanceof EventField f ? event.text(f) : (String) part);
      }
      record.setBody(text.toString());
    }
    record.emit();
  }

  private Attributes containerAttributes(Container c) {
    if (c == null) {
      return Attributes.empty();
    }
    Attributes a = containerAttributes.get(c);
    if (a == null) {
      if (containerAttributes.size() >= CONTAINER_CACHE_LIMIT) {
        containerAttributes.clear();
      }
      a = AttributeNames.ofContainer(c);
      containerAttributes.put(c, a);
    }
    return a;
  }
}
