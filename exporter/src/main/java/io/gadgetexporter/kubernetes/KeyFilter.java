package io.gadgetexporter.kubernetes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An allow-list of label or annotation keys ({@code kubernetes.pod_labels}, {@code
 * kubernetes.pod_annotations}): exact keys, or patterns where {@code *} matches any run of
 * characters ({@code app.kubernetes.io/*}, or {@code *} for all).
 */
final class KeyFilter {
  static final KeyFilter NONE = new KeyFilter(List.of());

  private final Set<String> exact = new HashSet<>();
  private final List<Pattern> patterns = new ArrayList<>();

  KeyFilter(List<String> keys) {
    for (String k : keys) {
      if (k.contains("*")) {
        patterns.add(
            Pattern.compile(
                String.join(".*", Arrays.stream(k.split("\\*", -1)).map(Pattern::quote).toList())));
      } else {
        exact.add(k);
      }
    }
  }

  boolean allows(String key) {
    if (exact.contains(key)) {
      return true;
    }
    for (Pattern p : patterns) {
      if (p.matcher(key).matches()) {
        return true;
      }
    }
    return false;
  }

  /** The entries whose key is allowed, sorted by key; {@code null} reads as empty. */
  Map<String, String> filter(Map<String, String> values) {
    if (values == null || values.isEmpty() || (exact.isEmpty() && patterns.isEmpty())) {
      return Map.of();
    }
    Map<String, String> kept = new TreeMap<>();
    values.forEach(
        (k, v) -> {
          if (v != null && allows(k)) {
            kept.put(k, v);
          }
        });
    return Collections.unmodifiableMap(kept);
  }
}
