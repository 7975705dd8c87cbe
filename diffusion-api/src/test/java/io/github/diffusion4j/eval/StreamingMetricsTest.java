package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The metrics accumulated batch by batch agree with the metrics of all images at once. */
class StreamingMetricsTest {
  private static final Shape SHAPE = Shape.of(3, 5, 5);

  private static float[] noisyGradients(int n, long seed) {
    float[] v = GradientImages.generate(n, SHAPE, Noise.seeded(seed));
    Random r = new Random(seed);
    for (int i = 0; i < v.length; i++) {
      v[i] += (float) (0.05 * r.nextGaussian());
    }
    return v;
  }

  private static float[] slice(float[] all, int first, int n) {
    int k = SHAPE.size();
    return Arrays.copyOfRange(all, first * k, (first + n) * k);
  }

  @Test
  void oneBatchIsExactlyTheFitAndManyAgreeToRounding() {
    float[] all = noisyGradients(1000, 1);
    Gaussian whole = Gaussian.fit(all, 75);
    Gaussian one = new Gaussian.Accumulator(75).add(all).fit();
    assertArrayEquals(whole.mean(), one.mean(), 0.0);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(whole.covariance()[i], one.covariance()[i], 0.0);
    }
    Gaussian.Accumulator acc = new Gaussian.Accumulator(75);
    int[] sizes = {1, 7, 300, 2, 690};
    int first = 0;
    for (int n : sizes) {
      acc.add(slice(all, first, n));
      first += n;
    }
    assertEquals(1000, acc.count());
    Gaussian batched = acc.fit();
    // double sums of 1000 terms of size ~0.1: rounding differences are of order 1e-16 relative
    assertArrayEquals(whole.mean(), batched.mean(), 1e-14);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(whole.covariance()[i], batched.covariance()[i], 1e-14);
    }
    assertEquals(0, FrechetDistance.between(whole, batched), 1e-12);
  }

  @Test
  void theStreamingKsStatisticIsWithinHalfABinOfTheExactOne() {
    Random r = new Random(7);
    for (int trial = 0; trial < 20; trial++) {
      int n = 1 + r.nextInt(3000);
      float[] images = new float[n * 75];
      for (int i = 0; i < images.length; i++) {
        // uniform, a cluster, values outside [0, 1] and NaN
        double u = r.nextDouble();
        images[i] = (float) (u < 0.1 ? 0.5 + 1e-6 * r.nextGaussian() : u < 0.12 ? -0.3 : u < 0.14 ? 1.7
            : u < 0.15 ? Double.NaN : r.nextDouble());
      }
      double exact = CornerUniformity.pooledKsStatistic(images, SHAPE);
      double exactMean = CornerUniformity.meanKsStatistic(images, SHAPE);
      CornerUniformity.Accumulator acc = new CornerUniformity.Accumulator(3);
      for (int first = 0; first < n; first += 97) {
        int m = Math.min(97, n - first);
        acc.add(slice(images, first, m), SHAPE, m);
      }
      assertEquals(2L * 3 * n, acc.count());
      assertEquals(exact, acc.pooledKsStatistic(), 0.5 / CornerUniformity.Accumulator.BINS + 1e-12, "trial " + trial);
      assertEquals(exactMean, acc.meanKsStatistic(), 0.5 / CornerUniformity.Accumulator.BINS + 1e-12, "trial " + trial);
    }
    assertThrows(IllegalStateException.class, () -> new CornerUniformity.Accumulator(3).pooledKsStatistic());
  }

  @Test
  void theQualityOfBatchesIsTheQualityOfTheWhole() {
    float[] samples = noisyGradients(600, 2);
    float[] reference = GradientImages.generate(600, SHAPE, Noise.seeded(3));
    QualityReport whole = new QualityReport(
        FrechetDistance.between(samples, reference, 75),
        GradientResidual.mean(samples, SHAPE),
        CornerUniformity.pooledKsStatistic(samples, SHAPE),
        CornerUniformity.meanKsStatistic(samples, SHAPE),
        600);
    QualityAccumulator acc = new QualityAccumulator(SHAPE);
    for (int first = 0; first < 600; first += 128) {
      acc.add(slice(samples, first, Math.min(128, 600 - first)));
    }
    QualityReport batched = acc.report(Gaussian.fit(reference, 75));
    // the clean gradients' covariance has rank 6 of 75: its 69 zero eigenvalues come out as +-1e-17 and
    // enter the distance through square roots (about 3e-9 each), so the distance itself agrees to ~1e-7
    assertEquals(whole.frechet(), batched.frechet(), 1e-6);
    assertEquals(whole.gradientResidual(), batched.gradientResidual(), 1e-12);
    assertEquals(whole.cornerKsPooled(), batched.cornerKsPooled(), 0.5 / CornerUniformity.Accumulator.BINS);
    assertEquals(whole.cornerKsMean(), batched.cornerKsMean(), 0.5 / CornerUniformity.Accumulator.BINS);
    assertEquals(600, batched.sampleCount());
    QualityReport oneShot = QualityMetrics.evaluate(samples, reference, SHAPE);
    assertEquals(batched.frechet(), oneShot.frechet(), 1e-6);
    assertTrue(batched.frechet() > 0);
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }

  @Test
  void keptVectorsFormTheComomentAsTheyCameWhenTheyOutnumberTheDimension() throws Exception {
    float[] all = noisyGradients(120, 9);
    // batches of 30, 30, 10 (70 <= 75: kept), then 50: the comoment of the four batches in that order
    Gaussian.Accumulator acc = new Gaussian.Accumulator(75);
    Gaussian.Accumulator dense = new Gaussian.Accumulator(75, 0);
    int[] sizes = {30, 30, 10, 50};
    int first = 0;
    for (int i = 0; i < sizes.length; i++) {
      acc.add(slice(all, first, sizes[i]));
      dense.add(slice(all, first, sizes[i]));
      first += sizes[i];
      if (i == 2) {
        Gaussian kept = roundTrip(acc).fit();
        assertTrue(kept.centredView() != null, "70 vectors of 75 values are kept");
        Gaussian fit = Gaussian.fit(Arrays.copyOf(all, 70 * 75), 75);
        assertArrayEquals(fit.mean(), kept.mean(), 1e-15);
        assertEquals(0, FrechetDistance.between(fit, kept), 1e-7);
      }
    }
    Gaussian g = acc.fit();
    Gaussian h = dense.fit();
    assertTrue(g.centredView() == null);
    assertArrayEquals(h.mean(), g.mean(), 0.0);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(h.covariance()[i], g.covariance()[i], 0.0);
    }
    // kept parts merge by joining their batches, and past the dimension as accumulators of those batches
    Gaussian.Accumulator p = new Gaussian.Accumulator(75).add(slice(all, 0, 30));
    Gaussian.Accumulator q = roundTrip(new Gaussian.Accumulator(75).add(slice(all, 30, 30)));
    p.merge(q);
    assertEquals(60, p.count());
    assertTrue(p.fit().centredView() != null);
    p.merge(new Gaussian.Accumulator(75).add(slice(all, 60, 60)));
    Gaussian merged = p.fit();
    Gaussian expected = new Gaussian.Accumulator(75, 0).add(slice(all, 0, 30)).add(slice(all, 30, 30))
        .merge(new Gaussian.Accumulator(75, 0).add(slice(all, 60, 60))).fit();
    assertArrayEquals(expected.mean(), merged.mean(), 0.0);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(expected.covariance()[i], merged.covariance()[i], 0.0);
    }
    assertEquals(30, q.count(), "the other accumulator is not changed");
  }

  @Test
  void accumulatorsOfPartsMergeToTheWholeInAnyGrouping() throws Exception {
    float[] all = noisyGradients(1000, 4);
    Gaussian whole = Gaussian.fit(all, 75);
    // parts of unequal sizes (one empty), merged left to right and as a tree, some through serialisation
    int[] sizes = {130, 0, 1, 400, 69, 400};
    Gaussian.Accumulator[] parts = new Gaussian.Accumulator[sizes.length];
    int first = 0;
    for (int p = 0; p < sizes.length; p++) {
      parts[p] = new Gaussian.Accumulator(75);
      for (int b = 0; b < sizes[p]; b += 128) {
        parts[p].add(slice(all, first + b, Math.min(128, sizes[p] - b)));
      }
      first += sizes[p];
    }
    Gaussian.Accumulator chain = new Gaussian.Accumulator(75);
    for (Gaussian.Accumulator p : parts) {
      chain.merge(roundTrip(p));
    }
    Gaussian.Accumulator left = roundTrip(parts[0]).merge(parts[1]).merge(parts[2]);
    Gaussian.Accumulator right = new Gaussian.Accumulator(75).merge(parts[3]).merge(parts[4]).merge(parts[5]);
    Gaussian.Accumulator tree = roundTrip(left.merge(right));
    for (Gaussian.Accumulator a : new Gaussian.Accumulator[] {chain, tree}) {
      assertEquals(1000, a.count());
      Gaussian g = a.fit();
      // as for batches above: sums of ~1000 terms, rounding of order 1e-16 relative
      assertArrayEquals(whole.mean(), g.mean(), 1e-14);
      for (int i = 0; i < 75; i++) {
        assertArrayEquals(whole.covariance()[i], g.covariance()[i], 1e-14);
      }
    }
    // merging leaves the other unchanged; a merged-in empty accumulator changes nothing
    assertEquals(130, parts[0].count());
    Gaussian before = parts[3].fit();
    Gaussian after = parts[3].merge(new Gaussian.Accumulator(75)).fit();
    assertArrayEquals(before.mean(), after.mean(), 0.0);
    assertThrows(IllegalArgumentException.class, () -> new Gaussian.Accumulator(75).merge(new Gaussian.Accumulator(3)));
  }

  @Test
  void serialisationKeepsEveryBitAndIsCompact() throws Exception {
    float[] all = noisyGradients(300, 5);
    Gaussian.Accumulator a = new Gaussian.Accumulator(75).add(all);
    Gaussian copy = roundTrip(a).fit();
    Gaussian original = a.fit();
    assertArrayEquals(original.mean(), copy.mean(), 0.0);
    for (int i = 0; i < 75; i++) {
      assertArrayEquals(original.covariance()[i], copy.covariance()[i], 0.0);
    }
    // an empty accumulator of a large dimension travels as its dimension only (a Spark zero value)
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(new Gaussian.Accumulator(3072));
    }
    assertTrue(bytes.size() < 1000, bytes.size() + " bytes");
    assertEquals(0, roundTrip(new Gaussian.Accumulator(3072)).count());

    QualityAccumulator q = new QualityAccumulator(SHAPE).add(all);
    QualityAccumulator q2 = roundTrip(q);
    float[] reference = GradientImages.generate(300, SHAPE, Noise.seeded(6));
    assertEquals(q.report(Gaussian.fit(reference, 75)), q2.report(Gaussian.fit(reference, 75)));
    bytes.reset();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(new QualityAccumulator(SHAPE));
    }
    assertTrue(bytes.size() < 2000, bytes.size() + " bytes for an empty quality accumulator");
  }

  @Test
  void qualityAccumulatorsMergeAndKsCountsAddExactly() throws Exception {
    float[] samples = noisyGradients(600, 7);
    // a noisy reference: full-rank covariances, so the distance is a smooth function of them (a clean
    // gradient's rank-6 covariance passes rounding through square roots of zero eigenvalues, see above)
    Gaussian ref = Gaussian.fit(noisyGradients(600, 8), 75);
    QualityAccumulator whole = new QualityAccumulator(SHAPE);
    QualityAccumulator a = new QualityAccumulator(SHAPE);
    QualityAccumulator b = new QualityAccumulator(SHAPE);
    for (int first = 0; first < 600; first += 100) {
      float[] batch = slice(samples, first, 100);
      whole.add(batch);
      (first < 300 ? a : b).add(batch);
    }
    QualityAccumulator merged = roundTrip(b).merge(roundTrip(a));
    QualityReport w = whole.report(ref);
    QualityReport m = merged.report(ref);
    assertEquals(600, merged.count());
    // the histograms are the same counts, so the KS statistic is the same number
    assertEquals(w.cornerKsPooled(), m.cornerKsPooled(), 0.0);
    assertEquals(w.cornerKsMean(), m.cornerKsMean(), 0.0);
    assertEquals(w.gradientResidual(), m.gradientResidual(), 1e-15);
    assertEquals(w.frechet(), m.frechet(), 1e-9 * w.frechet());
    Gaussian gw = whole.gaussian();
    Gaussian gm = merged.gaussian();
    assertArrayEquals(gw.mean(), gm.mean(), 1e-14);
    assertThrows(IllegalArgumentException.class, () -> a.merge(new QualityAccumulator(Shape.of(1, 5, 5))));
  }

  @Test
  void gaussianAccumulatorEdgesTwoVectorsOneDimensionNoVectorsAndChaining() {
    // the smallest fit: two vectors of dimension 1, {0, 2}: mean 1, unbiased variance (1 + 1) / 1 = 2
    Gaussian g = Gaussian.fit(new float[] {0f, 2f}, 1);
    assertEquals(1.0, g.mean()[0], 0.0);
    assertEquals(2.0, g.covariance()[0][0], 0.0);
    Gaussian.Accumulator a = new Gaussian.Accumulator(1);
    assertTrue(a == a.add(new float[] {0f}, 0) && a.count() == 0, "no vectors is allowed and adds nothing");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Gaussian.Accumulator(3).add(new float[5], 2));
    assertEquals("5 values hold fewer than 2 vectors of length 3", e.getMessage());
    Gaussian.Accumulator b = new Gaussian.Accumulator(1).add(new float[] {2f});
    assertTrue(a.add(new float[] {0f}).merge(b) == a, "merge returns the accumulator it adds to");
    assertEquals(2.0, a.fit().covariance()[0][0], 0.0);
  }
}
