package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {

  @Test
  void describeNamesEveryKeyWithItsDescription() {
    String docs = ConfigDocs.describe();
    for (Key<?, ?> k : Schema.keys()) {
      assertTrue(docs.contains(k.name() + ":"), k.path());
      // the first words of the description (the comment may wrap later)
      String start = k.doc().split(" ")[0];
      assertTrue(docs.contains(start), k.path() + ": " + start);
    }
    assertTrue(docs.contains("# (unet, ddpm only) channels of the first UNet level"), docs);
    assertTrue(docs.contains("  # base_channels: 32"), docs);
    // a key whose default differs by kind says each kind's, not only the first kind's (ddpm's were not shown)
    assertTrue(docs.contains("the DDPM authors' ch) (unet: 32; ddpm: 128)"), docs);
    assertTrue(docs.contains("on the way down (unet: 1; ddpm: 2)"), docs);
    assertTrue(docs.contains("# (folder, cifar10 only) an unreadable, truncated"), docs);
  }

  @Test
  void describeLoadsBackToTheDefaults() {
    assertEquals(ConfigLoader.defaults(), ConfigLoader.loadString(ConfigDocs.describe(), "docs.yaml"));
  }

  @Test
  void describeLinesAreShort() {
    for (String line : ConfigDocs.describe().split("\n")) {
      assertTrue(line.length() <= 100, line);
    }
  }

  @Test
  void markdownTableHasOneRowPerKeyInSchemaOrder() {
    List<String> rows = ConfigDocs.markdownTable().lines().toList();
    assertEquals("| key | type | default | description |", rows.get(0));
    List<Key<?, ?>> keys = Schema.keys();
    assertEquals(keys.size() + 2, rows.size());
    for (int i = 0; i < keys.size(); i++) {
      assertTrue(rows.get(i + 2).startsWith("| `" + keys.get(i).path() + "` | "), rows.get(i + 2));
    }
    assertTrue(ConfigDocs.markdownTable().contains(
        "| `data.train_size` | integer >= 0 | `50000` (idx, folder, cifar10: `0`) |"), ConfigDocs.markdownTable());
    assertTrue(ConfigDocs.markdownTable().contains(
        "| `data.image_shape` | 3 positive integers [C, H, W] | `[3, 5, 5]` (idx, folder: none; cifar10: "
            + "`[3, 32, 32]`) |"), ConfigDocs.markdownTable());
  }

  @Test
  void theReadmesTableIsTheGeneratedOne() throws java.io.IOException {
    // the README's key table is `diffusion config --markdown`'s output, pasted: it must not drift from the code
    java.nio.file.Path readme = java.nio.file.Path.of("..", "README.md");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(readme), "run from the module");
    List<String> lines = java.nio.file.Files.readAllLines(readme);
    int start = lines.indexOf("| key | type | default | description |");
    assertTrue(start >= 0, "README.md has the key table");
    int end = start;
    while (end < lines.size() && lines.get(end).startsWith("|")) {
      end++;
    }
    assertEquals(ConfigDocs.markdownTable().strip(), String.join("\n", lines.subList(start, end)),
        "README.md's key table: paste `./diffusion config --markdown` over it");
  }

  @Test
  void theReadmeSectionsTheDescriptionsNameExist() throws java.io.IOException {
    // a description that sends the reader to the README names one of its headings: `(README, "Quality and
    // speed")`, or one word without quotes (`(README, Speed)` named a section the README does not have)
    java.nio.file.Path readme = java.nio.file.Path.of("..", "README.md");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(readme), "run from the module");
    Set<String> headings = new HashSet<>();
    for (String line : java.nio.file.Files.readAllLines(readme)) {
      if (line.startsWith("#")) {
        headings.add(line.replaceFirst("^#+\\s*", ""));
      }
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("README, (?:\"([^\"]+)\"|([A-Z][A-Za-z ]*?)\\))")
        .matcher(ConfigDocs.markdownTable());
    int found = 0;
    while (m.find()) {
      String section = m.group(1) != null ? m.group(1) : m.group(2);
      assertTrue(headings.contains(section), "README.md has no section \"" + section + "\": " + m.group());
      found++;
    }
    assertTrue(found > 0, "the descriptions name a README section (the threads key's)");
  }

  @Test
  void schemaPathsAreUniqueAndMatchTheirSections() {
    Set<String> seen = new HashSet<>();
    for (Key<?, ?> k : Schema.keys()) {
      assertTrue(seen.add(k.path()), "duplicate " + k.path());
    }
    assertEquals(77, seen.size(), "every key of the schema; update when adding one");
    checkPrefixes(Schema.ROOT);
  }

  private static <R> void checkPrefixes(Section<R> s) {
    for (Section.Member<R> m : s.members()) {
      String expected = s.path().isEmpty() ? m.name() : s.path() + "." + m.name();
      assertEquals(expected, m.path());
      if (m instanceof Section.Sub<R, ?> sub) {
        checkPrefixes(sub.section());
      }
    }
  }
}
