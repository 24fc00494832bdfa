package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/configuration.md} true to the code: its key table against {@link ConfigKey},
 * both ways; its YAML examples against the loader; its default configuration against the embedded
 * {@code default.yaml}.
 *
 * <p>Conventions of the page: a {@code yaml} block is a configuration that must load, unless its
 * first line is {@code # invalid: FILE} (it must fail, with the message in the {@code text} block
 * that follows) or {@code # gadget.yaml} (not a configuration).
 */
class ConfigDocumentationTest {

  private static final String DOC = "docs/configuration.md";

  private static List<String> lines;

  /** A row of the key table: backticks dropped, so {@code `8MiB`} reads as 8MiB. */
  private record KeyRow(String key, String type, String defaultText) {}

  /** A fenced code block: its info string ({@code yaml}) and its text. */
  private record Block(String language, String text) {}

  @BeforeAll
  static void readDoc() throws IOException {
    lines = Files.readAllLines(findDoc());
  }

  /**
   * Tests run in exporter/ under Maven; look upwards so any working directory in the repo works.
   */
  private static Path findDoc() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(DOC))) {
        return dir.resolve(DOC);
      }
    }
    throw new AssertionError(DOC + " not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void keyTableListsExactlyTheKeysOfTheSchema() {
    Map<String, KeyRow> documented = keyTable();
    Set<String> schema =
        Arrays.stream(ConfigKey.values()).map(ConfigKey::path).collect(Collectors.toSet());

    assertThat(documented.keySet())
        .as("keys in %s that the code does not accept", DOC)
        .isSubsetOf(schema);
    assertThat(schema)
        .as("keys the code accepts that %s does not document", DOC)
        .isSubsetOf(documented.keySet());
  }

  @Test
  void keyTableStatesTheTypesAndDefaultsOfTheSchema() {
    Map<String, KeyRow> documented = keyTable();

    for (ConfigKey key : ConfigKey.values()) {
      assertThat(documented.get(key.path()))
          .as("row of %s in %s", key.path(), DOC)
          .isEqualTo(new KeyRow(key.path(), key.type(), key.defaultText()));
    }
  }

  @Test
  void everyConfigurationExampleLoads() {
    List<Block> examples = yamlBlocks();

    assertThat(examples).as("configuration examples in %s", DOC).hasSizeGreaterThanOrEqualTo(3);
    for (Block example : examples) {
      assertThatCode(() -> ConfigLoader.parse(example.text(), DOC, Map.of()))
          .as("example in %s:%n%s", DOC, example.text())
          .doesNotThrowAnyException();
    }
  }

  @Test
  void errorExampleProducesTheErrorShown() {
    List<Block> blocks = blocks();
    int checked = 0;
    for (int i = 0; i < blocks.size(); i++) {
      String text = blocks.get(i).text();
      if (!text.startsWith("# invalid: ")) {
        continue;
      }
      String file = text.lines().findFirst().orElseThrow().substring("# invalid: ".length());
      Block shown = blocks.get(i + 1);
      assertThat(shown.language()).as("the block after an invalid example").isEqualTo("text");

      ConfigException e =
          catchThrowableOfType(
              ConfigException.class, () -> ConfigLoader.parse(text, file, Map.of()));

      assertThat(e).as("invalid example in %s:%n%s", DOC, text).isNotNull();
      assertThat(e.getMessage()).isEqualTo(shown.text().strip());
      checked++;
    }
    assertThat(checked).as("invalid examples in %s", DOC).isPositive();
  }

  @Test
  void defaultConfigurationShownIsTheEmbeddedOne() {
    String embedded = ConfigLoader.defaultText();

    assertThat(yamlBlocks()).extracting(Block::text).contains(embedded);
  }

  private static Map<String, KeyRow> keyTable() {
    int heading = lines.indexOf("## Keys");
    assertThat(heading).as("'## Keys' in %s", DOC).isNotNegative();
    List<KeyRow> rows = new ArrayList<>();
    boolean inTable = false;
    for (String line : lines.subList(heading + 1, lines.size())) {
      if (line.startsWith("|")) {
        inTable = true;
        List<String> cells =
            Arrays.stream(line.split("\\|")).map(c -> c.replace("`", "").strip()).toList();
        // cells.get(0) is the empty text before the first '|'.
        if (!cells.get(1).equals("key") && !cells.get(1).startsWith("---")) {
          rows.add(new KeyRow(cells.get(1), cells.get(2), cells.get(3)));
        }
      } else if (inTable) {
        break;
      }
    }
    assertThat(rows).as("rows of the key table").isNotEmpty();
    assertThat(rows).extracting(KeyRow::key).as("keys documented twice").doesNotHaveDuplicates();
    return rows.stream().collect(Collectors.toMap(KeyRow::key, Function.identity()));
  }

  private static List<Block> yamlBlocks() {
    return blocks().stream()
        .filter(b -> b.language().equals("yaml"))
        .filter(b -> !b.text().startsWith("# invalid: ") && !b.text().startsWith("# gadget.yaml"))
        .toList();
  }

  private static List<Block> blocks() {
    List<Block> blocks = new ArrayList<>();
    String language = null;
    StringBuilder text = new StringBuilder();
    for (String line : lines) {
      if (language == null && line.startsWith("```")) {
        language = line.substring(3).strip();
        text.setLength(0);
      } else if (language != null && line.equals("```")) {
        blocks.add(new Block(language, text.toString()));
        language = null;
      } else if (language != null) {
        text.append(line).append('\n');
      }
    }
    return blocks;
  }
}
