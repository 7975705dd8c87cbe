package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** One context per JVM: a lease of the same master shares it, another master is refused, not silently given this one. */
class SparkContextsTest {
  @Test
  void anotherMasterIsRefusedAndALeaseOfTheSameMasterSharesTheContext() {
    JavaSparkContext sc = SparkTestSupport.context();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SparkContexts.acquire(new SparkConf().setMaster("local[1]").setAppName("other")));
    assertEquals("a Spark context with master " + SparkTestSupport.MASTER + " is running in this JVM; cannot start "
        + "one with master local[1] beside it", e.getMessage());
    SparkContexts.Lease lease = SparkContexts.acquire(new SparkConf().setMaster(SparkTestSupport.MASTER)
        .setAppName("same"));
    assertSame(sc, lease.context());
    lease.close();
    lease.close(); // twice: still one lease given back
    assertFalse(sc.sc().isStopped(), "the shared context outlives a second lease");
    assertSame(sc, SparkTestSupport.context());
  }
}
