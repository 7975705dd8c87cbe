package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** diffusion4j-bom lists every published module at the project's version, and inherits nothing it would pin. */
class BomTest {
  private static Document read(Path pom) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
  }

  private static String child(Element e, String name) {
    NodeList l = e.getElementsByTagName(name);
    return l.getLength() == 0 ? null : l.item(0).getTextContent().trim();
  }

  @Test
  void listsThePublishedModulesAtTheProjectVersion() throws Exception {
    Document parent = read(Path.of("..", "pom.xml"));
    Document bom = read(Path.of("..", "diffusion4j-bom", "pom.xml"));
    Element root = bom.getDocumentElement();
    assertEquals(0, root.getElementsByTagName("parent").getLength(), "no parent: importing it pins nothing else");
    String version = child(parent.getDocumentElement(), "version");
    assertEquals(version, child(root, "version"));
    List<String> modules = new ArrayList<>();
    NodeList deps = root.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element d = (Element) deps.item(i);
      assertEquals("io.github.diffusion4j", child(d, "groupId"));
      assertEquals("${project.version}", child(d, "version"));
      modules.add(child(d, "artifactId"));
    }
    assertEquals(List.of("diffusion-api", "backend-nd4j", "backend-djl", "diffusion-testkit", "diffusion-spark"),
        modules);
  }
}
