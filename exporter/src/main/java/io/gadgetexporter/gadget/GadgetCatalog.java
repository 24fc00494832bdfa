package io.gadgetexporter.gadget;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The gadgets the agent can run: the built-in ones, which travel in the jar as resources {@code
 * gadgets/<name>/program.bpf.o} and {@code gadget.yaml} listed in {@code gadgets/index.txt}, and
 * any directory holding those two files.
 */
public final class GadgetCatalog {
  private static final String ROOT = "gadgets/";
  private final List<String> builtInNames;

  private GadgetCatalog(List<String> builtInNames) {
    this.builtInNames = List.copyOf(builtInNames);
  }

  public static GadgetCatalog builtIn() {
    String index = resourceText(ROOT + "index.txt");
    if (index == null) {
      throw new GadgetException(
          "the built-in gadgets are missing from the classpath (no " + ROOT + "index.txt)");
    }
    return new GadgetCatalog(index.lines().map(String::strip).filter(s -> !s.isEmpty()).toList());
  }

  public List<String> builtInNames() {
    return builtInNames;
  }

  /**
   * A built-in gadget by name, or, when {@code nameOrPath} contains a '/', the gadget in that
   * directory.
   */
  public Optional<Gadget> find(String nameOrPath) {
    if (nameOrPath.contains("/")) {
      return Optional.of(fromDirectory(Path.of(nameOrPath)));
    }
    if (!builtInNames.contains(nameOrPath)) {
      return Optional.empty();
    }
    String yamlName = ROOT + nameOrPath + "/gadget.yaml";
    String yaml = resourceText(yamlName);
    byte[] object = resourceBytes(ROOT + nameOrPath + "/program.bpf.o");
    if (yaml == null || object == null) {
      throw new GadgetException("built-in gadget " + nameOrPath + " is incomplete in the jar");
    }
    return Optional.of(new Gadget(GadgetSpec.parse(yaml, yamlName), object, "built-in"));
  }

  public static Gadget fromDirectory(Path dir) {
    Path yaml = dir.resolve("gadget.yaml");
    Path object = dir.resolve("program.bpf.o");
    for (Path p : List.of(yaml, object)) {
      if (!Files.isRegularFile(p)) {
        throw new GadgetException(
            "gadget directory " + dir + " has no " + p.getFileName() + " (needs gadget.yaml and"
                + " program.bpf.o)");
      }
    }
    try {
      return new Gadget(
          GadgetSpec.parse(Files.readString(yaml), yaml.toString()),
          Files.readAllBytes(object),
          dir.toString());
    } catch (IOException e) {
      throw new GadgetException("cannot read gadget directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Every built-in gadget, loaded. */
  public List<Gadget> builtInGadgets() {
    List<Gadget> all = new ArrayList<>();
    for (String name : builtInNames) {
      find(name).ifPresent(all::add);
    }
    return all;
  }

  private static String resourceText(String name) {
    byte[] b = resourceBytes(name);
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  private static byte[] resourceBytes(String name) {
    try (InputStream in = GadgetCatalog.class.getClassLoader().getResourceAsStream(name)) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
