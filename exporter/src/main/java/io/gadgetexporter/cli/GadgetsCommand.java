package io.gadgetexporter.cli;

import io.gadgetexporter.agent.Preflight;
import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.bpf.FeatureProbe;
import io.gadgetexporter.bpf.KernelFeatures;
import io.gadgetexporter.gadget.EventField;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import io.gadgetexporter.gadget.GadgetSpec.FieldSpec;
import io.gadgetexporter.gadget.GadgetSupport;
import io.gadgetexporter.gadget.GadgetSupport.Support;
import io.gadgetexporter.gadget.GadgetSupport.Verdict;
import io.gadgetexporter.gadget.ParamSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gadget-exporter gadgets}: the catalog, each gadget with its description, fields and
 * parameters, and whether this kernel runs it (found by loading it, see {@link GadgetSupport}).
 */
@Command(
    name = "gadgets",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the gadgets: what each shows, its fields and parameters, and whether this kernel"
          + " supports it.",
      "Checking support loads each gadget into the kernel and detaches it again (needs the"
          + " agent's privileges; without them the answer is 'unknown')."
    })
final class GadgetsCommand implements Callable<Integer> {
  private static final int WIDTH = 100;

  @Parameters(
      paramLabel = "GADGET",
      arity = "0..*",
      description =
          "Built-in gadget names, or directories holding gadget.yaml and program.bpf.o."
              + " Default: every built-in gadget.")
  List<String> gadgets = new ArrayList<>();

  @Option(names = "--brief", description = "One line per gadget.")
  boolean brief;

  @Option(names = "--json", description = "The same as JSON, for scripts.")
  boolean json;

  @Option(
      names = "--no-check",
      description = "Do not load the gadgets to find out whether this kernel supports them.")
  boolean noCheck;

  private final PrintStream out;

  GadgetsCommand() {
    this(System.out);
  }

  GadgetsCommand(PrintStream out) {
    this.out = out;
  }

  /** One gadget as listed: what it is, its layout, and the kernel's answer (null: not checked). */
  record Entry(
      Gadget gadget,
      List<String> hooks,
      List<EventField> fields,
      String schemaProblem,
      Support support) {}

  @Override
  public Integer call() {
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    List<Gadget> selected = new ArrayList<>();
    for (String nameOrPath : gadgets.isEmpty() ? catalog.builtInNames() : gadgets) {
      try {
        Gadget g = catalog.find(nameOrPath).orElse(null);
        if (g == null) {
          System.err.println(
              "gadget-exporter: unknown gadget '"
                  + nameOrPath
                  + "' (built-in: "
                  + String.join(", ", catalog.builtInNames())
                  + "; or a directory holding gadget.yaml and program.bpf.o)");
          return Main.EXIT_CONFIG;
        }
        selected.add(g);
      } catch (GadgetException e) {
        System.err.println("gadget-exporter: " + e.getMessage());
        return Main.EXIT_CONFIG;
      }
    }
    Checker checker = noCheck ? null : Checker.forThisHost();
    List<Entry> entries = new ArrayList<>();
    for (Gadget g : selected) {
      List<EventField> fields = List.of();
      List<String> hooks = List.of();
      String schemaProblem = null;
      // One opening of the object for both (the support check loads a fresh one of its own).
      try (BpfObject object = BpfObject.open("list-" + g.name(), g.object())) {
        fields = EventSchema.of(object, g).fields();
        hooks = object.programs().stream().map(BpfProgram::sectionName).distinct().toList();
      } catch (BpfException e) {
        schemaProblem = "gadget " + g.name() + ": cannot open its object: " + e.getMessage();
      } catch (GadgetException | UnsatisfiedLinkError e) {
        schemaProblem = e.getMessage();
      }
      entries.add(
          new Entry(g, hooks, fields, schemaProblem, checker == null ? null : checker.check(g)));
    }
    if (json) {
      out.println(toJson(entries).encodePrettily());
    } else if (brief) {
      entries.forEach(this::printBrief);
    } else {
      entries.forEach(this::printFull);
    }
    out.flush();
    return 0;
  }

  /** Answers per gadget, or one answer for all when the check cannot run on this host. */
  private record Checker(KernelFeatures features, String cannotCheck) {
    static Checker forThisHost() {
      List<String> problems = Preflight.forThisHost().problems();
      if (!problems.isEmpty()) {
        return new Checker(null, String.join("; ", problems));
      }
      try {
        return new Checker(FeatureProbe.probe(), null);
      } catch (RuntimeException | UnsatisfiedLinkError e) {
        return new Checker(null, "the kernel's features could not be probed: " + e.getMessage());
      }
    }

    Support check(Gadget g) {
      if (features == null) {
        return new Support(Verdict.UNKNOWN, cannotCheck, List.of());
      }
      return GadgetSupport.check(g, features);
    }
  }

  private void printBrief(Entry e) {
    out.printf(
        "%-18s %-10s %-12s %s%n",
        e.gadget().name(),
        e.gadget().spec().kind(),
        supportWord(e.support()),
        firstSentence(e.gadget()));
  }

  private void printFull(Entry e) {
    Gadget g = e.gadget();
    out.println(
        g.name()
            + ("built-in".equals(g.origin()) ? "" : " (" + g.origin() + ")")
            + " — "
            + g.spec().kind()
            + ", "
            + supportLine(e.support()));
    wrap(g.spec().description(), "  ", "  ");
    if (e.support() != null) {
      for (String note : e.support().notes()) {
        wrap(note, "  note: ", "        ");
      }
    }
    if (!e.hooks().isEmpty()) {
      wrap(String.join(", ", e.hooks()), "  hooks: ", "         ");
    }
    out.println("  fields:");
    if (e.schemaProblem() != null) {
      wrap(e.schemaProblem(), "    (cannot read them: ", "     ");
    }
    for (EventField f : e.fields()) {
      String type = typeOf(f);
      String head = String.format("    %-16s %-14s ", f.name(), type);
      wrap(
          f.spec().description()
              + (f.semantic().equals(f.name()) ? "" : " [" + f.semantic() + "]")
              + (f.hidden() ? " (hidden column)" : ""),
          head,
          " ".repeat(head.length()));
    }
    List<ParamSpec> params = g.spec().params();
    out.println(params.isEmpty() ? "  parameters: none" : "  parameters:");
    for (ParamSpec p : params) {
      String head =
          String.format(
              "    %-16s %-14s ", p.name(), p.type() + " = " + ParamSpec.display(p.defaultValue()));
      wrap(p.description() + range(p), head, " ".repeat(head.length()));
    }
    out.println();
  }

  private static String typeOf(EventField f) {
    String format = f.format().name().toLowerCase(Locale.ROOT);
    return f.spec().unit() == null ? format : format + " (" + f.spec().unit() + ")";
  }

  private static String range(ParamSpec p) {
    if (p.min() == null && p.max() == null) {
      return "";
    }
    return " Range: "
        + (p.min() == null ? "" : p.displayBound(p.min()))
        + ".."
        + (p.max() == null ? "" : p.displayBound(p.max()))
        + ".";
  }

  private static String supportWord(Support s) {
    if (s == null) {
      return "not checked";
    }
    return switch (s.verdict()) {
      case YES -> "supported";
      case NO -> "unsupported";
      case UNKNOWN -> "unknown";
    };
  }

  private static String supportLine(Support s) {
    if (s == null) {
      return "support not checked (--no-check)";
    }
    return switch (s.verdict()) {
      case YES -> "supported by this kernel";
      case NO -> "NOT supported by this kernel: " + s.reason();
      case UNKNOWN -> "support unknown: " + s.reason();
    };
  }

  private static String firstSentence(Gadget g) {
    String d = g.spec().description().strip();
    int end = d.indexOf(". ");
    return end < 0 ? d : d.substring(0, end + 1);
  }

  /** Prints {@code text} word-wrapped at {@link #WIDTH}, the first line after {@code first}. */
  private void wrap(String text, String first, String rest) {
    StringBuilder line = new StringBuilder(first);
    int lineStart = 0;
    boolean empty = true;
    for (String word : text.strip().split("\\s+")) {
      if (!empty && line.length() - lineStart + 1 + word.length() > WIDTH) {
        out.println(line);
        line.setLength(0);
        line.append(rest);
        empty = true;
      }
      if (!empty) {
        line.append(' ');
      }
      line.append(word);
      empty = false;
    }
    out.println(line);
  }

  static JsonArray toJson(List<Entry> entries) {
    JsonArray all = new JsonArray();
    for (Entry e : entries) {
      Gadget g = e.gadget();
      JsonArray fields = new JsonArray();
      for (EventField f : e.fields()) {
        FieldSpec s = f.spec();
        fields.add(
            new JsonObject()
                .put("name", f.name())
                .put("type", f.format().name().toLowerCase(Locale.ROOT))
                .put("semantic", f.semantic())
                .put("unit", s.unit())
                .put("hidden", f.hidden())
                .put("description", s.description()));
      }
      JsonArray params = new JsonArray();
      for (ParamSpec p : g.spec().params()) {
        params.add(
            new JsonObject()
                .put("name", p.name())
                .put("type", p.type().toString()) // as gadget.yaml spells it: uint, duration
                .put("default", ParamSpec.display(p.defaultValue()))
                .put("min", p.displayBound(p.min()))
                .put("max", p.displayBound(p.max()))
                .put("description", p.description()));
      }
      JsonObject support = null;
      if (e.support() != null) {
        support =
            new JsonObject()
                .put("verdict", e.support().verdict().name().toLowerCase(Locale.ROOT))
                .put("reason", e.support().reason())
                .put("notes", new JsonArray(e.support().notes()));
      }
      all.add(
          new JsonObject()
              .put("name", g.name())
              .put("origin", g.origin())
              .put("kind", g.spec().kind())
              .put("description", g.spec().description())
              .put("hooks", new JsonArray(e.hooks()))
              .put("fields", fields)
              .put("fieldsProblem", e.schemaProblem())
              .put("params", params)
              .put("support", support));
    }
    return all;
  }
}
