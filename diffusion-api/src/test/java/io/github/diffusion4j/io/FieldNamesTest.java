package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The field names of the JSON and metadata that checkpoints of older versions hold and other tools read, against
 * text written out by hand: renaming a key in both the writer and the reader would still round-trip, but would no
 * longer read the files already written.
 */
class FieldNamesTest {
  @Test
  void aManifestOfAnOlderBuildIsRead() {
    String hex = "0123456789abcdef".repeat(4);
    String json = "{\n  \"format_version\" : 1,\n  \"diffusion4j_version\" : \"0.1.0\",\n  \"backend\" : \"nd4j\",\n"
        + "  \"seed\" : 42,\n  \"created\" : \"2025-01-31T12:00:00Z\",\n  \"noise_version\" : 2,\n"
        + "  \"files\" : { \"config.yaml\" : \"" + hex + "\", \"model.safetensors\" : \"" + hex + "\" }\n}\n";
    Manifest m = Manifest.fromJson(json, "manifest.json");
    assertEquals(1, m.formatVersion());
    assertEquals("0.1.0", m.diffusion4jVersion());
    assertEquals("nd4j", m.backend());
    assertEquals(42, m.seed());
    assertEquals(Instant.parse("2025-01-31T12:00:00Z"), m.created());
    assertEquals(Map.of("config.yaml", hex, "model.safetensors", hex), m.sha256());
    assertEquals(2, m.noiseVersion().orElseThrow().number());
  }

  @Test
  void aTrainingStateKeepsItsCountersUnderTheirMetadataKeys() {
    String header = "{\"__metadata__\":{\"epoch\":\"4\",\"noise_position\":\"123456789012\",\"step\":\"5000\"},"
        + SafeTensorsTest.entry("m", "F32", "[1]", 0, 4) + "}";
    byte[] file = SafeTensorsTest.craftAligned(header, SafeTensorsTest.f32(0.5f));
    TrainingState s = TrainingState.from(SafeTensors.read(file, "training_state.safetensors"), "training_state.safetensors");
    assertEquals(5000, s.step());
    assertEquals(4, s.epoch());
    assertEquals(123456789012L, s.noisePosition());
    // and what is written is read by these names
    assertEquals(Map.of("step", "5000", "epoch", "4", "noise_position", "123456789012"),
        TrainingState.of(5000, 4, 123456789012L, s.optimizer()).metadata());
  }
}
