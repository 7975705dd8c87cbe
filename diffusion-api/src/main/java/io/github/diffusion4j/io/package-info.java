/**
 * Files: checkpoints and pictures, with no native library and every write atomic.
 *
 * <ul>
 *   <li>{@link io.github.diffusion4j.io.SafeTensors}: the safetensors codec (read every dtype of the format, the
 *       names and shapes before the values, as float32; write F32), strict about every rule of the format;
 *       {@link io.github.diffusion4j.io.SafeTensorsReader} is an open file; errors are
 *       {@link io.github.diffusion4j.io.CheckpointException}s naming the file.
 *   <li>{@link io.github.diffusion4j.io.Checkpoint}: a checkpoint directory ({@code model.safetensors},
 *       {@code config.yaml}, optional EMA weights, training state and diffusers-style
 *       {@link io.github.diffusion4j.io.SchedulerConfig}, and a {@link io.github.diffusion4j.io.Manifest}
 *       with SHA-256 checksums); {@link io.github.diffusion4j.io.CheckpointStore} keeps the last few of
 *       a run.
 *   <li>{@link io.github.diffusion4j.io.DiffusersFolder}: diffusers {@code UNet2DModel} folders, read and written;
 *       {@link io.github.diffusion4j.io.TorchCheckpoint}: the state dicts in {@code torch.save} files, read
 *       without running their pickle.
 *   <li>{@link io.github.diffusion4j.io.ImageGrid} (PNG grids, drawn at once or batch by batch),
 *       {@link io.github.diffusion4j.io.GifWriter} (animated trajectories), {@link io.github.diffusion4j.io.NpyWriter}
 *       (NumPy arrays), {@link io.github.diffusion4j.io.SampleWriter} (any number of samples to {@code .npy} or
 *       {@code .safetensors}, batch by batch, in flat memory).
 *   <li>{@link io.github.diffusion4j.io.ImageCache}: decoded training images in one file, built once from an
 *       image folder or CIFAR-10 batches, checked against its sources, memory-mapped.
 *   <li>{@link io.github.diffusion4j.io.AtomicFiles}: temporary sibling, fsync, atomic rename.
 *   <li>{@link io.github.diffusion4j.io.FolderLock}: one process owns a run folder (an OS lock, released
 *       when the process dies); {@link io.github.diffusion4j.io.FileProblems}: a file is checked before it is
 *       opened, and failures are described in words.
 * </ul>
 *
 * <p>JSON (the safetensors header, {@code manifest.json}, {@code scheduler_config.json}, diffusers'
 * {@code config.json}) is read with Jackson's tree API through one strict parser (duplicate keys and
 * trailing content are errors) and written with Jackson; an ArchUnit rule keeps Jackson in the packages
 * that read and write files. YAML is not read here.
 *
 * <p>This package sits below {@code config}: the configuration is stored as text supplied by the caller.
 */
package io.github.diffusion4j.io;
