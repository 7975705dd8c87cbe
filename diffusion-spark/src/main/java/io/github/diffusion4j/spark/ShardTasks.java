package io.github.diffusion4j.spark;

import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.io.SampleWriter;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.spark.TaskContext;

/**
 * What the executors run: sample one shard with the JVM's model of the checkpoint, and write it or
 * accumulate its statistics.
 *
 * <p>Writing is idempotent, so Spark's retries and speculative duplicates are harmless: a shard's content
 * depends only on the job (keyed noise, whole batches of the single-process run), each attempt writes to a
 * temporary sibling of its own ({@code .tmp-shard-...}) and renames it over the shard's one name when
 * complete. An attempt that dies leaves at most a temporary, which the driver deletes; two attempts that
 * both finish rename the same bytes to the same name.
 */
final class ShardTasks {
  private ShardTasks() {}

  /**
   * What every task of a sampling job needs besides its shard.
   *
   * @param count the run's number of samples
   * @param seed the noise seed
   * @param batchSize the driver's sampling batch (checked against the executor's)
   * @param out the output folder
   * @param format the shards' format
   * @param metadata safetensors metadata
   */
  record Spec(int count, long seed, int batchSize, String out, SampleFormat format, Map<String, String> metadata)
      implements Serializable {
    Spec {
      metadata = Map.copyOf(metadata);
    }
  }

  /** Samples a shard and writes it, returning what the manifest records. */
  static ShardResult write(ModelSource source, Spec spec, ShardPlan.Shard shard, TaskHook hook) {
    return ExecutorModels.with(source, m -> {
      checkBatch(m, spec.batchSize());
      Path target = Path.of(spec.out()).resolve(spec.format().shardName(shard.index()));
      MessageDigest md = Sha256.digest();
      long bytes = spec.format() == SampleFormat.PNG ? writePngs(m, spec, shard, target, md, hook)
          : writeFile(m, spec, shard, target, md, hook);
      return new ShardResult(shard.index(), shard.first(), shard.count(), target.getFileName().toString(), bytes,
          Sha256.hex(md));
    });
  }

  /** Samples a shard into a statistics accumulator (this task's copy of the aggregation's zero). */
  static QualityAccumulator accumulate(ModelSource source, int count, long seed, int batchSize,
      QualityAccumulator acc, ShardPlan.Shard shard, TaskHook hook) {
    return ExecutorModels.with(source, m -> {
      checkBatch(m, batchSize);
      sample(m, count, seed, shard, hook, SamplingListener.NONE, (first, images, n) -> acc.add(images));
      return acc;
    });
  }

  private static long writeFile(TrainedModel m, Spec spec, ShardPlan.Shard shard, Path target, MessageDigest md,
      TaskHook hook) {
    Shape image = m.diffusion().imageShape();
    try (AtomicFiles.PendingFile f = AtomicFiles.create(target)) {
      CountingStream counted = new CountingStream(new DigestOutputStream(f.out(), md));
      SampleWriter w = SampleWriter.to(counted, spec.format().writerFormat().orElseThrow(), image, shard.count(),
          spec.metadata());
      sample(m, spec.count(), spec.seed(), shard, hook, SamplingListener.NONE, (first, images, n) -> w.write(images, n));
      w.commit();
      f.commit();
      return counted.count;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + FileProblems.describe(e), e);
    }
  }

  private static final ImageGrid.Options ONE_IMAGE = new ImageGrid.Options(1, 0, 1, 0.0, List.of(), List.of());

  private static long writePngs(TrainedModel m, Spec spec, ShardPlan.Shard shard, Path target, MessageDigest md,
      TaskHook hook) {
    Shape image = m.diffusion().imageShape();
    int k = image.size();
    String name = "%0" + Math.max(8, String.valueOf(spec.count() - 1).length()) + "d.png";
    long[] bytes = new long[1];
    TaskContext task = TaskContext.get();
    try {
      AtomicFiles.writeDirectory(target, tmp -> sample(m, spec.count(), spec.seed(), shard, hook, keepFresh(tmp, shard,
          hook), (first, images, n) -> {
            for (int i = 0; i < n; i++) {
              if (task != null) {
                // a batch is a thousand files written durably, seconds: a killed task stops between two
                task.killTaskIfInterrupted();
              }
              BufferedImage png = ImageGrid.render(Arrays.copyOfRange(images, i * k, (i + 1) * k),
                  Shape.batchOf(1, image), ONE_IMAGE);
              Path file = tmp.resolve(String.format(Locale.ROOT, name, shard.first() + first + i));
              try {
                AtomicFiles.writeDurably(file, out -> {
                  CountingStream counted = new CountingStream(new DigestOutputStream(out, md));
                  try (ImageOutputStream ios = new MemoryCacheImageOutputStream(counted)) {
                    if (!ImageIO.write(png, "png", ios)) {
                      throw new IOException("this JVM has no PNG writer");
                    }
                  }
                  counted.flush();
                  bytes[0] += counted.count;
                });
              } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
              }
            }
          }));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + FileProblems.describe(e), e);
    }
    return bytes[0];
  }

  /**
   * Touches a PNG shard's temporary folder after every sampling step. Another attempt of the shard (a speculative
   * copy, on another executor) starts with {@link AtomicFiles#writeDirectory}, which deletes the shard's temporaries
   * that nothing has changed for {@link AtomicFiles#STALE_TEMP_MILLIS}: a folder gets no file while a batch samples,
   * and a batch of a large model can take longer than that, so the copy deleted the running attempt's folder, which
   * then failed at its next file ("no such file").
   */
  private static SamplingListener keepFresh(Path dir, ShardPlan.Shard shard, TaskHook hook) {
    return new SamplingListener() {
      @Override
      public void onStep(int index, io.github.diffusion4j.schedule.Timesteps plan,
          io.github.diffusion4j.sampling.ReverseStepResult result) {
        hook.afterStep(shard, index);
        try {
          java.nio.file.Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.fromMillis(
              System.currentTimeMillis()));
        } catch (IOException | RuntimeException e) {
          // best effort: the folder is written to at the batch's end anyway
        }
      }

      @Override
      public boolean readsPredictedX0() {
        return false;
      }
    };
  }

  /**
   * Samples a shard batch by batch: the run's request sliced to the shard, so that the noise and the
   * batches are those of the single-process run; between batches, a task Spark has killed stops.
   */
  private static void sample(TrainedModel m, int count, long seed, ShardPlan.Shard shard, TaskHook hook,
      SamplingListener listener, Diffusion.ImageSink sink) {
    Diffusion d = m.diffusion();
    TaskContext task = TaskContext.get();
    m.sample(d.sampler(), d.request(count, seed).slice(shard.first(), shard.count()), listener,
        (first, images, n) -> {
          sink.accept(first, images, n);
          hook.afterBatch(shard, first + n);
          if (task != null) {
            task.killTaskIfInterrupted();
          }
        });
  }

  private static void checkBatch(TrainedModel m, int batchSize) {
    int here = m.diffusion().samplingBatchSize();
    if (here != batchSize) {
      throw new IllegalStateException("this executor samples in batches of " + here + " but the driver planned "
          + batchSize + "; the executors and the driver must run the same diffusion4j version");
    }
  }

  /** Counts the bytes written through it. */
  private static final class CountingStream extends FilterOutputStream {
    long count;

    CountingStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
