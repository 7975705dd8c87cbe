package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * A run whose samples together hold more than 2^31 values (a million CIFAR-sized images: what diffusion spark
 * sample shards) is a valid request: only its slices, one sampling batch each, are ever materialised.
 */
class SamplingRequestLargeRunTest {
  @Test
  void aRunOfMoreThanTwoToThe31ValuesCanBeSlicedIntoBatches() {
    Shape cifar = Shape.of(3, 32, 32);
    SamplingRequest run = SamplingRequest.of(1_000_000, cifar, 7, Timesteps.trailing(1000, 20));
    SamplingRequest batch = run.slice(999_424, 576);
    assertEquals(576, batch.count());
    assertEquals(999_424, batch.firstSample());
    assertEquals(Shape.batchOf(576, cifar), batch.batchShape());
  }
}
