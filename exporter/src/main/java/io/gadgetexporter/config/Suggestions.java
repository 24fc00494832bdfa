package io.gadgetexporter.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/** "did you mean 'listen'?": the known word nearest to a misspelt one, if any is near enough. */
final class Suggestions {

  private Suggestions() {}

  /**
   * The candidate closest in edit distance, when it is within a third of the word's length (at
   * least 2), or when one is a prefix of the other ({@code wakeup} → {@code wakeup_bytes}).
   * Comparison ignores case, so {@code Listen} finds {@code listen}.
   */
  static Optional<String> nearest(String word, Collection<String> candidates) {
    String lower = word.toLowerCase(Locale.ROOT);
    int allowed = Math.max(2, word.length() / 3);
    return candidates.stream()
        .filter(
            candidate -> {
              String c = candidate.toLowerCase(Locale.ROOT);
              return distance(lower, c) <= allowed
                  || (lower.length() >= 3 && (c.startsWith(lower) || lower.startsWith(c)));
            })
        .min(Comparator.comparingInt(c -> distance(lower, c.toLowerCase(Locale.ROOT))));
  }

  /** Levenshtein distance: insertions, deletions and substitutions. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
