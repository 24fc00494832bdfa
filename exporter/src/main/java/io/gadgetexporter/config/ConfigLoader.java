package io.gadgetexporter.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads the agent's YAML config into an {@link AgentConfig}, or fails with a {@link
 * ConfigException} listing every problem with its file, line, column and key.
 *
 * <p>All checking happens here, at start-up, so that nothing on the event path has to doubt a
 * setting. The reference for users is {@code docs/configuration.md}.
 */
public final class ConfigLoader {

  /** The source name of the configuration built into the agent, used when no file is given. */
  public static final String EMBEDDED_DEFAULT = "<embedded default>";

  private static final String DEFAULT_RESOURCE = "default.yaml";

  private ConfigLoader() {}

  /** Loads a file, interpolating {@code ${…}} from the process environment. */
  public static AgentConfig load(Path file) {
    return load(file, System.getenv());
  }

  /** Loads a file, interpolating {@code ${…}} from {@code environment}. */
  public static AgentConfig load(Path file, Map<String, String> environment) {
    String source = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw wholeFile(source, "no such file");
    } catch (AccessDeniedException e) {
      throw wholeFile(source, "permission denied");
    } catch (CharacterCodingException e) {
      throw wholeFile(source, "not valid UTF-8");
    } catch (IOException e) {
      throw wholeFile(source, "cannot be read: " + e.getMessage());
    }
    return parse(text, source, environment);
  }

  /**
   * Parses config text.
   *
   * @param sourceName the file name to put in locations and messages
   * @param environment what {@code ${NAME}} reads; injectable so tests need not touch the real one
   */
  public static AgentConfig parse(String text, String sourceName, Map<String, String> environment) {
    Optional<Node> document = compose(text, sourceName);
    ConfigReader reader = new ConfigReader(sourceName, environment, ConfigLoader::defaultGadgets);
    return reader.read(document);
  }

  /**
   * Parses one gadget instance written with the keys of a {@code gadgets[]} entry (a Trace
   * resource's spec, without its node selector), with the same checks as a config file.
   *
   * @param sourceName names the source in locations ({@code Trace/execs})
   * @param keyPath where the mapping sits in that source, for messages ({@code spec})
   * @param name the instance's name, given by the source rather than a {@code name} key
   * @throws ConfigException with every problem found
   */
  public static InstanceConfig parseInstance(
      String text, String sourceName, String keyPath, String name) {
    Optional<Node> document = compose(text, sourceName);
    return new ConfigReader(sourceName, Map.of(), List::of)
        .readSingleInstance(document, keyPath, name);
  }

  private static Optional<Node> compose(String text, String sourceName) {
    Optional<Node> document;
    try {
      LoadSettings settings =
          LoadSettings.builder()
              .setLabel(sourceName)
              // Let complex keys through the parser so the reader reports them with a position.
              .setAllowNonScalarKeys(true)
              .build();
      document = new Compose(settings).composeString(text);
    } catch (MarkedYamlEngineException e) {
      throw ConfigException.at(syntaxErrorLocation(e, sourceName), "", syntaxErrorMessage(e));
    } catch (ReaderException e) {
      throw ConfigException.at(
          locationOfCodePoint(text, e.getPosition(), sourceName),
          "",
          "character U+" + String.format("%04X", e.getCodePoint()) + " is not allowed in YAML");
    } catch (YamlEngineException e) {
      throw ConfigException.at(ConfigLocation.wholeFile(sourceName), "", e.getMessage());
    }
    return document;
  }

  /**
   * The configuration built into the agent ({@code default.yaml} next to this class): the {@code
   * exec} and {@code open} instances of {@code trace_exec} and {@code trace_open} on the whole
   * host, metrics on {@code 0.0.0.0:9464}. It uses no environment variables.
   */
  public static AgentConfig loadDefault() {
    return DefaultHolder.CONFIG;
  }

  /** The embedded default's text, e.g. to print it as a starting point for a config file. */
  public static String defaultText() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            DEFAULT_RESOURCE + " is missing next to " + ConfigLoader.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parsed once, on first use: it cannot change while the agent runs. */
  private static final class DefaultHolder {
    static final AgentConfig CONFIG = parse(defaultText(), EMBEDDED_DEFAULT, Map.of());
  }

  /** The instances of a file that has no {@code gadgets} key: the embedded default's. */
  private static List<InstanceConfig> defaultGadgets() {
    return loadDefault().gadgets();
  }

  private static ConfigException wholeFile(String source, String message) {
    return ConfigException.at(ConfigLocation.wholeFile(source), "", message);
  }

  private static ConfigLocation syntaxErrorLocation(MarkedYamlEngineException e, String source) {
    return e.getProblemMark()
        .or(e::getContextMark)
        .map(mark -> new ConfigLocation(source, mark.getLine() + 1, mark.getColumn() + 1))
        .orElseGet(() -> ConfigLocation.wholeFile(source));
  }

  /** "could not find expected ':' (while scanning a simple key at line 3, column 1)". */
  private static String syntaxErrorMessage(MarkedYamlEngineException e) {
    String problem = e.getProblem() == null ? "invalid YAML" : e.getProblem();
    if (e.getContext() == null) {
      return "invalid YAML: " + problem;
    }
    String contextAt =
        e.getContextMark()
            .filter(mark -> !sameSpot(mark, e.getProblemMark()))
            .map(mark -> " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1))
            .orElse("");
    return "invalid YAML: " + problem + " (" + e.getContext() + contextAt + ")";
  }

  private static boolean sameSpot(Mark mark, Optional<Mark> other) {
    return other.isPresent()
        && other.get().getLine() == mark.getLine()
        && other.get().getColumn() == mark.getColumn();
  }

  /**
   * snakeyaml's reader reports a bad character by its code point index; find its line and column.
   */
  private static ConfigLocation locationOfCodePoint(
      String text, int codePointIndex, String source) {
    int line = 1;
    int column = 1;
    int index = 0;
    for (int i = 0; i < text.length() && index < codePointIndex; index++) {
      int codePoint = text.codePointAt(i);
      i += Character.charCount(codePoint);
      if (codePoint == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return new ConfigLocation(source, line, column);
  }
}
