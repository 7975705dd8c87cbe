package io.github.diffusion4j.spark;

import io.github.diffusion4j.io.SampleWriter;
import java.util.Locale;
import java.util.Optional;

/** What a shard is written as. */
public enum SampleFormat {
  /**
   * One NumPy {@code .npy} file per shard, float32 {@code [n, C, H, W]} in {@code [0, 1]}: the bytes after the
   * header are those of the same samples in the single file {@code diffusion sample --out FILE.npy} writes.
   */
  NPY("npy"),
  /** One {@code .safetensors} file per shard, one F32 tensor named {@code samples}, with the run in its metadata. */
  SAFETENSORS("safetensors"),
  /**
   * One folder per shard holding one PNG per sample (8 bits per channel, the sample at its own size), named by
   * the sample's number in the run ({@code 00001234.png}): the layout image-folder tools (FID scorers) read.
   */
  PNG("png");

  private final String extension;

  SampleFormat(String extension) {
    this.extension = extension;
  }

  /**
   * The name of a format on the command line and in the manifest.
   *
   * @return {@code npy}, {@code safetensors} or {@code png}
   */
  public String configName() {
    return extension;
  }

  /**
   * The file or folder name of a shard.
   *
   * @param index the shard's number
   * @return e.g. {@code shard-00003.npy}, or {@code shard-00003} for PNG folders
   */
  public String shardName(int index) {
    String stem = String.format(Locale.ROOT, "shard-%05d", index);
    return this == PNG ? stem : stem + "." + extension;
  }

  /** The format {@link SampleWriter} writes for a file format; empty for PNG. */
  Optional<SampleWriter.Format> writerFormat() {
    return switch (this) {
      case NPY -> Optional.of(SampleWriter.Format.NPY);
      case SAFETENSORS -> Optional.of(SampleWriter.Format.SAFETENSORS);
      case PNG -> Optional.empty();
    };
  }

  /**
   * The format of a name.
   *
   * @param name {@code npy}, {@code safetensors} or {@code png} (any case)
   * @return the format, or empty if there is none of that name
   */
  public static Optional<SampleFormat> named(String name) {
    for (SampleFormat f : values()) {
      if (f.extension.equalsIgnoreCase(name)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
