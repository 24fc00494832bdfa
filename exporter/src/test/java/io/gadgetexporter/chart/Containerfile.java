package io.gadgetexporter.chart;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The instructions of a Containerfile (Dockerfile syntax), by stage: enough to read what an image
 * runs without building it. Continuation lines are joined; comments and parser directives dropped.
 */
record Containerfile(List<Stage> stages) {

  record Instruction(String keyword, String arguments) {}

  record Stage(String base, Optional<String> name, List<Instruction> instructions) {
    List<String> all(String keyword) {
      return instructions.stream()
          .filter(i -> i.keyword().equals(keyword))
          .map(Instruction::arguments)
          .toList();
    }

    Optional<String> last(String keyword) {
      List<String> found = all(keyword);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
    }
  }

  static Containerfile parse(String text) {
    List<String> logical = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      String stripped = line.strip();
      if (current.length() == 0 && (stripped.isEmpty() || stripped.startsWith("#"))) {
        continue;
      }
      if (current.length() > 0 && stripped.startsWith("#")) {
        continue; // a comment inside a continued instruction
      }
      if (stripped.endsWith("\\")) {
        current.append(stripped, 0, stripped.length() - 1).append(' ');
      } else {
        current.append(stripped);
        logical.add(current.toString());
        current.setLength(0);
      }
    }
    List<Stage> stages = new ArrayList<>();
    List<Instruction> instructions = null;
    for (String l : logical) {
      int space = l.indexOf(' ');
      String keyword = (space < 0 ? l : l.substring(0, space)).toUpperCase(java.util.Locale.ROOT);
      String args = space < 0 ? "" : l.substring(space + 1).strip();
      if (keyword.equals("FROM")) {
        String[] words = args.split("\\s+");
        Optional<String> name =
            words.length >= 3 && words[1].equalsIgnoreCase("AS")
                ? Optional.of(words[2])
                : Optional.empty();
        instructions = new ArrayList<>();
        stages.add(new Stage(words[0], name, instructions));
      } else if (instructions != null) {
        instructions.add(new Instruction(keyword, args));
      }
    }
    return new Containerfile(List.copyOf(stages));
  }

  Stage runtime() {
    return stages.get(stages.size() - 1);
  }

  Stage stage(String name) {
    return stages.stream()
        .filter(s -> s.name().filter(name::equals).isPresent())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stage named " + name));
  }
}
