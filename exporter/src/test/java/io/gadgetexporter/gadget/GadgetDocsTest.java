package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.export.EventMetrics;
import java.io.IOException;
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
 * The gadget pages ({@code docs/gadgets/<name>.md}): each names a built-in gadget, lists exactly
 * its parameters, has a line in the README's table, and its configuration examples load and their
 * metrics fit the gadget's fields.
 */
class GadgetDocsTest {
  private static final Pattern YAML_BLOCK = Pattern.compile("(?s)```yaml\n(.*?)```");
  private static final Pattern PARAM_ROW = Pattern.compile("(?m)^\\| `([a-z_0-9]+)` \\|");

  @Test
  void everyGadgetPageMatchesItsGadget() throws IOException {
    Path docs = findDocs();
    String readme = Files.readString(docs.resolve("README.md"));
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    List<Path> pages;
    try (Stream<Path> s = Files.list(docs)) {
      pages = s.filter(p -> !p.getFileName().toString().equals("README.md")).sorted().toList();
    }
    assertThat(pages).isNotEmpty();
    for (Path page : pages) {
      String name = page.getFileName().toString().replaceFirst("\\.md$", "");
      String text = Files.readString(page);
      Gadget gadget =
          catalog.find(name).orElseThrow(() -> new AssertionError(page + ": no gadget"));
      assertThat(readme).as("README row").contains("| [" + name + "](" + name + ".md) |");
      List<String> documented = new ArrayList<>();
      String params = text.substring(text.indexOf("## Parameters") + 1);
      params =
          params.substring(0, params.contains("\n## ") ? params.indexOf("\n## ") : params.length());
      Matcher row = PARAM_ROW.matcher(params);
      while (row.find()) {
        documented.add(row.group(1));
      }
      assertThat(documented)
          .as(page + ": parameter table")
          .containsExactlyInAnyOrderElementsOf(
              gadget.spec().params().stream().map(ParamSpec::name).toList());
      EventSchema schema = EventSchema.of(gadget);
      Matcher yaml = YAML_BLOCK.matcher(text);
      int examples = 0;
      while (yaml.find()) {
        AgentConfig config = ConfigLoader.parse(yaml.group(1), page.toString(), Map.of());
        for (InstanceConfig ic : config.gadgets()) {
          assertThat(ic.gadget()).isEqualTo(name);
          GadgetInstance.resolveParams(ic, gadget.spec()); // the parameters are valid
          EventMetrics.compile(
              ic, name, schema, gadget.spec().eventName(), config.metrics(), () -> 0);
        }
        examples++;
      }
      assertThat(examples).as(page + ": examples").isPositive();
    }
  }

  private static Path findDocs() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("docs/gadgets"))) {
        return dir.resolve("docs/gadgets");
      }
    }
    throw new AssertionError("docs/gadgets not found above " + Path.of("").toAbsolutePath());
  }
}
