package io.gadgetexporter.gadget;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.RedactionRule;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * An instance's redaction rules, compiled against its event's fields. Applied where string fields
 * are decoded ({@link EventView#getString}, {@link EventView#getArgs}), so no output — terminal,
 * JSON, OTLP logs, metric labels, the live stream — can see a value before it is rewritten.
 */
public final class Redaction {
  public static final Redaction NONE = new Redaction(new RedactionRule[0][]);

  /** Rules by field index; null where a field has none. */
  private final RedactionRule[][] byField;

  private Redaction(RedactionRule[][] byField) {
    this.byField = byField;
  }

  /**
   * @param agentWide rules of the file's top-level {@code redact}: they apply to every gadget that
   *     has the field, and are no error for one that has not
   * @param instance the instance's own rules: each must name a string field of its gadget
   * @throws ConfigException naming the rule that names no such field
   */
  public static Redaction compile(
      EventSchema schema, List<RedactionRule> agentWide, List<RedactionRule> instance) {
    if (agentWide.isEmpty() && instance.isEmpty()) {
      return NONE;
    }
    List<ConfigException.Problem> problems = new ArrayList<>();
    RedactionRule[][] byField = new RedactionRule[schema.fields().size()][];
    for (RedactionRule rule : instance) {
      EventField f = schema.fieldNamedOrMeaning(rule.field()).orElse(null);
      if (f == null) {
        problems.add(
            rule.problem(
                "'"
                    + rule.field()
                    + "' is not a field of this gadget; its string fields: "
                    + String.join(", ", stringFieldNames(schema))));
      } else if (!isText(f)) {
        problems.add(
            rule.problem(
                "'" + rule.field() + "' is not a string field; only strings can be redacted"));
      } else {
        add(byField, f, rule);
      }
    }
    for (RedactionRule rule : agentWide) {
      for (EventField f : schema.fields()) {
        if (isText(f) && rule.appliesTo(f.name(), f.semantic())) {
          add(byField, f, rule);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new Redaction(byField);
  }

  private static boolean isText(EventField f) {
    return f.format() == FieldFormat.STRING || f.format() == FieldFormat.ARGS;
  }

  private static List<String> stringFieldNames(EventSchema schema) {
    return schema.fields().stream().filter(Redaction::isText).map(EventField::name).toList();
  }

  private static void add(RedactionRule[][] byField, EventField f, RedactionRule rule) {
    RedactionRule[] old = byField[f.index()];
    RedactionRule[] rules =
        old == null ? new RedactionRule[1] : java.util.Arrays.copyOf(old, old.length + 1);
    rules[rules.length - 1] = rule;
    byField[f.index()] = rules;
  }

  /** Whether any rule applies to the field: the decoder can skip the work otherwise. */
  boolean applies(EventField f) {
    return f.index() < byField.length && byField[f.index()] != null;
  }

  /** The value with every rule of the field applied, in order. */
  String apply(EventField f, String value) {
    RedactionRule[] rules = byField[f.index()];
    String result = value;
    for (RedactionRule rule : rules) {
      Matcher m = rule.pattern().matcher(result);
      if (m.find()) {
        result = m.replaceAll(rule.replacement());
      }
    }
    return result;
  }
}
