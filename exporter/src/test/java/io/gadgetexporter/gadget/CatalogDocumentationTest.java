package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.export.EventMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The catalog is documented, both ways: each built-in gadget describes its fields and parameters
 * in gadget.yaml (what {@code gadget-exporter gadgets} prints) and has its page under docs/gadgets,
 * listed in the catalog's index, naming every field and giving exactly its parameters; each page
 * is a built-in gadget's, and its example configs are what the agent accepts for that gadget.
 */
class CatalogDocumentationTest {
  private static final Path DOCS = GadgetBuild.repositoryRoot().resolve("docs/gadgets");
  private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern PARAM_ROW = Pattern.compile("(?m)^\\| `([a-z_0-9]+)` \\|");

  @Test
  void everyBuiltInGadgetHasItsPageAndDescribesEveryFieldAndParameter() throws Exception {
    String index = Files.readString(DOCS.resolve("README.md"));
    for (Gadget g : GadgetCatalog.builtIn().builtInGadgets()) {
      GadgetSpec spec = g.spec();
      assertThat(spec.description()).as(g.name()).isNotBlank();
      assertThat(spec.fields())
          .as(g.name() + ": fields without a description")
          .allSatisfy(f -> assertThat(f.description()).as(f.name()).isNotBlank());
      assertThat(spec.params())
          .as(g.name() + ": parameters without a description")
          .allSatisfy(p -> assertThat(p.description()).as(p.name()).isNotBlank());

      Path page = DOCS.resolve(g.name() + ".md");
      assertThat(page).as("the page of " + g.name()).isRegularFile();
      String text = Files.readString(page);
      for (GadgetSpec.FieldSpec f : spec.fields()) {
        assertThat(text).as(page + " names field " + f.name()).contains("`" + f.name() + "`");
      }
      assertThat(parameterTable(text))
          .as(page + ": the parameter table")
          .containsExactlyInAnyOrderElementsOf(spec.params().stream().map(ParamSpec::name).toList());
      assertThat(index)
          .as("docs/gadgets/README.md lists " + g.name())
          .contains("| [" + g.name() + "](" + g.name() + ".md) |");
    }
  }

  /**
   * Each page's example config entries are for its gadget and are what the agent accepts: they
   * load, their parameters pass the gadget's checks, their metrics name fields the gadget has.
   */
  @Test
  void everyPageIsABuiltInGadgetsAndItsExampleConfigsAreValid() throws Exception {
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    List<Path> pages;
    try (Stream<Path> s = Files.list(DOCS)) {
      pages = s.filter(p -> !p.getFileName().toString().equals("README.md")).sorted().toList();
    }
    assertThat(pages).hasSameSizeAs(catalog.builtInNames());
    for (Path page : pages) {
      String name = page.getFileName().toString().replaceFirst("\\.md$", "");
      Gadget gadget = catalog.find(name).orElseThrow(() -> new AssertionError(page + ": no gadget"));
      EventSchema schema = EventSchema.of(gadget);
      Matcher blocks = YAML_BLOCK.matcher(Files.readString(page));
      int examples = 0;
      while (blocks.find()) {
        AgentConfig config = ConfigLoader.parse(blocks.group(1), page.toString(), Map.of());
        for (InstanceConfig ic : config.gadgets()) {
          assertThat(ic.gadget()).as(page + ": an example for another gadget").isEqualTo(name);
          GadgetInstance.resolveParams(ic, gadget.spec());
          EventMetrics.compile(
              ic, name, schema, gadget.spec().eventName(), config.metrics(), () -> 0L);
          examples++;
        }
      }
      assertThat(examples).as(page + ": examples").isPositive();
    }
  }

  /** The parameter names of a page's "## Parameters" table. */
  private static List<String> parameterTable(String page) {
    int start = page.indexOf("## Parameters");
    if (start < 0) {
      return List.of();
    }
    String section = page.substring(start + 1);
    section = section.contains("\n## ") ? section.substring(0, section.indexOf("\n## ")) : section;
    List<String> names = new ArrayList<>();
    Matcher row = PARAM_ROW.matcher(section);
    while (row.find()) {
      names.add(row.group(1));
    }
    return names;
  }
}
