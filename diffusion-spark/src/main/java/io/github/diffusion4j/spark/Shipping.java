package io.github.diffusion4j.spark;

/** How the executors get the checkpoint the driver checked. */
public enum Shipping {
  /**
   * The executors read the checkpoint folder at its path, which every executor must see (a shared file
   * system: NFS, a mounted bucket); nothing is sent with the tasks but the path.
   */
  PATH,
  /**
   * The driver reads the files the executors load ({@code model.safetensors}, {@code ema.safetensors},
   * {@code config.yaml}, {@code scheduler_config.json}; a diffusers folder's {@code model_index.json}, model
   * {@code config.json}, weights and {@code scheduler_config.json}) and broadcasts their bytes (Spark's torrent
   * broadcast: once to each executor, not once per task); each executor writes them to a temporary folder
   * to load them. For small checkpoints, and clusters without shared storage.
   */
  BROADCAST,
  /** {@link #BROADCAST} when those files total at most {@link #BROADCAST_LIMIT} bytes, else {@link #PATH}. */
  AUTO;

  /** The most bytes {@link #AUTO} broadcasts: 64 MiB. */
  public static final long BROADCAST_LIMIT = 64L << 20;
}
