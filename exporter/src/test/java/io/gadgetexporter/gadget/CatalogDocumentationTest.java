package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.EventMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The catalog is documented: each built-in gadget describes its fields and parameters in
 * gadget.yaml (what {@code gadget-exporter gadgets} prints) and has its page under docs/gadgets,
 * listed in the catalog's index, naming every field and parameter.
 */
class CatalogDocumentationTest {
  private static final Path DOCS = GadgetBuild.repositoryRoot().resolve("docs/gadgets");

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
      for (ParamSpec p : spec.params()) {
        assertThat(text).as(page + " names parameter " + p.name()).contains("`" + p.name() + "`");
      }
      assertThat(index).as("docs/gadgets/README.md lists " + g.name()).contains("(" + g.name() + ".md)");
    }
  }

  /**
   * The example config entries of the pages are what the agent accepts: they load, their
   * parameters pass the gadget's checks, their metrics name fields the gadget has.
   */
  @Test
  void everyPagesExampleConfigIsValidForItsGadget() throws Exception {
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    int examples = 0;
    try (var pages = Files.list(DOCS)) {
      for (Path page : pages.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
        Matcher blocks = YAML_BLOCK.matcher(Files.readString(page));
        while (blocks.find()) {
          String yaml = blocks.group(1);
          if (!yaml.startsWith("gadgets:")) {
            continue;
          }
          AgentConfig config = ConfigLoader.parse(yaml, page.getFileName().toString(), Map.of());
          for (InstanceConfig ic : config.gadgets()) {
            Gadget g = catalog.find(ic.gadget()).orElseThrow();
            new GadgetInstance(
                    ic, g, EventSink.NONE, BootClock.system(), new ContainerCollection(0, System::nanoTime))
                .close();
            EventMetrics.compile(
                ic, g.name(), EventSchema.of(g), g.spec().eventName(), config.metrics(), () -> 0L);
            examples++;
          }
        }
      }
    }
    assertThat(examples).isGreaterThanOrEqualTo(GadgetCatalog.builtIn().builtInNames().size());
  }

  private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL);
}
