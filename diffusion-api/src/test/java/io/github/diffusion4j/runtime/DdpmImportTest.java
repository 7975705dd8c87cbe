package io.github.diffusion4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.TorchFiles;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DdpmImport} of state dicts holding integer or empty tensors (the conversions are in the testkit). */
class DdpmImportTest {
  private static final DdpmUNetSpec MINI = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4),
      0.0);

  @TempDir
  Path dir;

  /**
   * An int64 {@code num_batches_tracked} beside the authors' parameters is read, and named as any tensor the model
   * does not have; an int64 tensor or an empty one in a parameter's place is named with what was found.
   */
  @Test
  void integerAndEmptyTensorsAreJudgedByTheAuthorsLayout() throws IOException {
    StateDict w = MINI.initialWeights(3);
    Path ckpt = dir.resolve("model.ckpt");
    Path out = dir.resolve("out");
    DdpmImport.Options options = new DdpmImport.Options(OptionalInt.of(8), Optional.empty(),
        DdpmImport.Format.DIFFUSION4J);

    TorchFiles.zip(ckpt, w, new TorchFiles.Tensor("norm_out.num_batches_tracked", "Long", "x", 1));
    CheckpointException e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, out, options));
    assertEquals(ckpt + ": the state dict is not the DDPM authors' Model: 'norm_out.num_batches_tracked' is not a "
        + "parameter of the DDPM authors' Model", e.getMessage());

    TorchFiles.zip(ckpt, w, new TorchFiles.Tensor("temb.dense.0.bias", "Long", "x", 128, 128));
    e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, out, options));
    assertEquals(ckpt + ": tensor 'temb.dense.0.bias' is int64; a model parameter must be float32, float64, float16 "
        + "or bfloat16", e.getMessage());

    TorchFiles.zip(ckpt, w, new TorchFiles.Tensor("temb.dense.0.bias", "Float", "x", 0, 0));
    e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, out, options));
    assertEquals(ckpt + ": the state dict is not the DDPM authors' Model: 'temb.dense.0.bias' has shape [0] but the "
        + "DDPM authors' Model with ch 32, ch_mult [1, 2] has [128]", e.getMessage());

    TorchFiles.zip(ckpt, w, new TorchFiles.Tensor("conv_in.weight", "Float", "x", 0, 0, 3, 3, 3));
    e = assertThrows(CheckpointException.class, () -> DdpmImport.convert(ckpt, out, options));
    assertEquals(ckpt + ": the state dict is not the DDPM authors' Model: conv_in.weight has shape [0, 3, 3, 3]: an "
        + "empty tensor, not the DDPM authors' Model layout", e.getMessage());
    assertFalse(Files.exists(out));

    TorchFiles.zip(ckpt, w);
    assertEquals(new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.1),
        DdpmImport.convert(ckpt, out, options).spec(), "the parameters alone convert (the small models' dropout)");
  }
}
