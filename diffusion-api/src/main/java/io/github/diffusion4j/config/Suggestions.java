package io.github.diffusion4j.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean" by edit distance, for misspelt keys and values (and the command line's misspelt commands). */
public final class Suggestions {
  private Suggestions() {}

  /**
   * The candidate closest to a word, if close enough: at most 2 edits, or a third of the word's
   * length for long words (case and {@code -}/{@code _} are ignored). Ties go to the earlier candidate.
   *
   * @param word what the user wrote
   * @param candidates the allowed words
   * @return the suggestion, or empty if none is close
   */
  public static Optional<String> closest(String word, Collection<String> candidates) {
    String w = normalise(word);
    int limit = Math.max(2, w.length() / 3);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      String n = normalise(c);
      if (Math.abs(w.length() - n.length()) > limit) {
        // at least that many edits apart: never close enough, and a long word (a value of megabytes) would cost
        // a table of its length times the candidate's
        continue;
      }
      int d = distance(w, n);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return bestDistance <= limit && bestDistance < w.length() ? Optional.of(best) : Optional.empty();
  }

  /**
   * The message tail for an unknown word: {@code did you mean 'x'? (allowed: a, b, c)}.
   *
   * @param word what the user wrote
   * @param candidates the allowed words, in the order to list them
   * @return the text
   */
  static String didYouMean(String word, Collection<String> candidates) {
    String allowed = candidates.isEmpty() ? "none" : String.join(", ", candidates);
    return closest(word, candidates)
        .map(s -> "did you mean '" + s + "'? (allowed: " + allowed + ")")
        .orElse("allowed: " + allowed);
  }

  private static String normalise(String s) {
    return s.toLowerCase(Locale.ROOT).replace('-', '_');
  }

  /**
   * The optimal-string-alignment distance: insertions, deletions, substitutions and transpositions of
   * two adjacent characters each cost 1.
   *
   * @param a one word
   * @param b the other
   * @return the number of edits
   */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        int v = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          v = Math.min(v, d[i - 2][j - 2] + 1);
        }
        d[i][j] = v;
      }
    }
    return d[a.length()][b.length()];
  }
}
