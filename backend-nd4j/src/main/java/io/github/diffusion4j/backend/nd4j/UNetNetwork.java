package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Buffer;
import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Slot;
import io.github.diffusion4j.model.UNetSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The layers of a {@link UNetSpec} U-Net over a model's {@link ModelState}, and its forward and backward
 * passes by hand on channel-major activations ({@link UNetKernels}).
 *
 * <p>A {@link Pass} runs {@code nb} items through the network in one {@link UNetWorkspace}. A training
 * pass keeps what the backward pass reads (each layer's input, GroupNorm's statistics, SiLU's input
 * sigmoid and output); an evaluation pass gives every array back as soon as it is dead, so it holds only
 * the skip connections and a few working arrays. The weights are only read, so any number of passes
 * may run at once on different workspaces; gradients are added to the state's gradient.
 */
final class UNetNetwork {
  private final UNetSpec spec;
  private final ModelState state;
  private final Map<String, Integer> offsets = new HashMap<>();
  private final Linear dense0;
  private final Linear dense1;
  private final Conv2d convIn;
  private final Conv2d convOut;
  private final Norm normOut;
  /** The ops of the way down in order: {@code Block}s and downsampling {@code Conv2d}s. */
  private final List<Object> downOps = new ArrayList<>();
  private final Block mid1;
  private final Block mid2;
  private final Attention attention;
  /** The ops of the way up in order: {@code Block}s (each taking a skip) and upsampling {@code Conv2d}s. */
  private final List<Object> upOps = new ArrayList<>();
  private final int blocks;
  /** Channels and positions of the skip activations, in the order the way down pushes them. */
  private final int[] skipC;
  private final int[] skipP;

  /** A GroupNorm: gamma at {@code off}, beta at {@code off + c}; {@code p} positions per channel. */
  private record Norm(int off, int c, int p) {}

  /** A residual block and its layers; {@code index} numbers its dropout mask. */
  private record Block(int index, int cin, int cout, int p, Norm norm1, Conv2d conv1, Linear tembProj,
      Norm norm2, Conv2d conv2, Conv2d shortcut) {}

  /** The middle's self-attention. */
  private record Attention(int c, int p, Norm norm, Conv2d qkv, Conv2d projOut) {}

  /** An upsampling step: nearest x2 from {@code h x w}, then a convolution. */
  private record Upsample(int c, int h, int w, Conv2d conv) {}

  UNetNetwork(UNetSpec spec, ModelState state) {
    this.spec = spec;
    this.state = state;
    int[] off = ModelState.offsets(spec.parameterShapes());
    int i = 0;
    for (String name : spec.parameterShapes().keySet()) {
      offsets.put(name, off[i++]);
    }
    int ch = spec.baseChannels();
    int temb = spec.embeddingChannels();
    int c0 = spec.imageShape().dim(0);
    int h0 = spec.imageShape().dim(1);
    int w0 = spec.imageShape().dim(2);
    this.dense0 = linear("temb.dense.0", ch, temb);
    this.dense1 = linear("temb.dense.1", temb, temb);
    this.convIn = conv("conv_in", c0, ch, 3, 1, 1, h0, w0);
    Map<String, Integer> blockIndex = new HashMap<>();
    List<UNetSpec.ResBlock> all = spec.resBlocks();
    for (int b = 0; b < all.size(); b++) {
      blockIndex.put(all.get(b).prefix(), b);
    }
    this.blocks = all.size();
    int levels = spec.levels();
    for (int level = 0; level < levels; level++) {
      for (UNetSpec.ResBlock b : spec.downBlocks(level)) {
        downOps.add(block(b, blockIndex));
      }
      if (level < levels - 1) {
        int c = spec.channels(level);
        downOps.add(conv("down." + level + ".downsample.conv", c, c, 3, 2, 1, h0 >> level, w0 >> level));
      }
    }
    this.skipC = new int[downOps.size() + 1];
    this.skipP = new int[downOps.size() + 1];
    skipC[0] = ch;
    skipP[0] = h0 * w0;
    for (int k = 0; k < downOps.size(); k++) {
      Object op = downOps.get(k);
      skipC[k + 1] = op instanceof Block b ? b.cout() : ((Conv2d) op).cout;
      skipP[k + 1] = op instanceof Block b ? b.p() : ((Conv2d) op).outPositions();
    }
    this.mid1 = block(spec.midBlock(1), blockIndex);
    this.mid2 = block(spec.midBlock(2), blockIndex);
    int last = levels - 1;
    int cm = spec.channels(last);
    int pm = (h0 >> last) * (w0 >> last);
    this.attention =
        spec.attention()
            ? new Attention(cm, pm, norm("mid.attn_1.norm", cm, pm),
                conv("mid.attn_1.qkv", cm, 3 * cm, 1, 1, 0, h0 >> last, w0 >> last),
                conv("mid.attn_1.proj_out", cm, cm, 1, 1, 0, h0 >> last, w0 >> last))
            : null;
    for (int level = levels - 1; level >= 0; level--) {
      for (UNetSpec.ResBlock b : spec.upBlocks(level)) {
        upOps.add(block(b, blockIndex));
      }
      if (level > 0) {
        int c = spec.channels(level);
        int h = h0 >> level;
        int w = w0 >> level;
        upOps.add(new Upsample(c, h, w, conv("up." + level + ".upsample.conv", c, c, 3, 1, 1, 2 * h, 2 * w)));
      }
    }
    this.normOut = norm("norm_out", ch * spec.channelMult().get(0), h0 * w0);
    this.convOut = conv("conv_out", spec.channels(0), c0, 3, 1, 1, h0, w0);
  }

  private int offset(String name) {
    Integer o = offsets.get(name);
    if (o == null) {
      throw new IllegalStateException("no state-dict entry " + name);
    }
    return o;
  }

  private Linear linear(String name, int in, int out) {
    return new Linear(state, offset(name + ".weight"), offset(name + ".bias"), in, out);
  }

  private Conv2d conv(String name, int cin, int cout, int k, int stride, int pad, int h, int w) {
    return new Conv2d(state, offset(name + ".weight"), offset(name + ".bias"), cin, cout, k, stride, pad, h, w);
  }

  private Norm norm(String name, int c, int p) {
    return new Norm(offset(name + ".weight"), c, p);
  }

  private Block block(UNetSpec.ResBlock b, Map<String, Integer> blockIndex) {
    String p = b.prefix() + ".";
    int h = spec.imageShape().dim(1) >> b.level();
    int w = spec.imageShape().dim(2) >> b.level();
    return new Block(
        blockIndex.get(b.prefix()),
        b.inChannels(),
        b.outChannels(),
        h * w,
        norm(p + "norm1", b.inChannels(), h * w),
        conv(p + "conv1", b.inChannels(), b.outChannels(), 3, 1, 1, h, w),
        linear(p + "temb_proj", spec.embeddingChannels(), b.outChannels()),
        norm(p + "norm2", b.outChannels(), h * w),
        conv(p + "conv2", b.outChannels(), b.outChannels(), 3, 1, 1, h, w),
        b.hasShortcut() ? conv(p + "nin_shortcut", b.inChannels(), b.outChannels(), 1, 1, 0, h, w) : null);
  }

  /** The number of residual blocks (dropout masks per step). */
  int blocks() {
    return blocks;
  }

  /**
   * About how many floats a training pass keeps per item: every block's tape ({@code (2 cin + 6 cout) p},
   * the input of the way up's blocks, a concatenation, counted too), the attention's ({@code 6 c p + p^2}),
   * the resampling steps', the output's, and the backward pass's few working arrays.
   *
   * @return the estimate
   */
  long floatsPerItem() {
    long n = 0;
    long widest = 0;
    List<Object> ops = new ArrayList<>(downOps);
    ops.add(mid1);
    ops.add(mid2);
    ops.addAll(upOps);
    for (Object op : ops) {
      if (op instanceof Block b) {
        n += (long) (2 * b.cin() + 6 * b.cout()) * b.p() + (upOps.contains(b) ? (long) b.cin() * b.p() : 0);
        widest = Math.max(widest, (long) b.cin() * b.p());
      } else if (op instanceof Conv2d c) {
        n += (long) c.cout * c.outPositions();
      } else {
        Upsample u = (Upsample) op;
        n += 8L * u.c() * u.h() * u.w();
      }
    }
    if (attention != null) {
      n += 6L * attention.c() * attention.p() + (long) attention.p() * attention.p();
    }
    n += (long) (3 * normOut.c() + spec.imageShape().dim(0)) * normOut.p();
    return n + 4 * widest;
  }

  // ---------------------------------------------------------------------------------------- a pass

  /** What a block's backward pass reads. */
  private static final class BlockTape {
    float[] x;
    float[] mean1;
    float[] rstd1;
    float[] a1;
    float[] s1;
    float[] h;
    float[] mean2;
    float[] rstd2;
    float[] a2;
    float[] s2;
    float[] u;
  }

  /** What the attention's backward pass reads. */
  private static final class AttentionTape {
    float[] x;
    float[] mean;
    float[] rstd;
    float[] xn;
    float[] qkv;
    float[] w;
    float[] h;
  }

  /**
   * A pass of {@code nb} items.
   *
   * @param ws the workspace (reset by the pass)
   * @param nb the number of items
   * @param train whether a backward pass follows (keeps what it reads)
   * @param n0 the index of the first item in the whole batch (for the dropout masks)
   * @param masks each block's dropout mask for the whole batch ({@code [N, C, H, W]}), or null
   * @return the pass
   */
  Pass pass(UNetWorkspace ws, int nb, boolean train, int n0, float[][] masks) {
    return new Pass(ws, nb, train, n0, masks);
  }

  /** One forward (and, for training, backward) pass of {@code nb} items in a workspace. */
  final class Pass {
    private final UNetWorkspace ws;
    private final int nb;
    private final boolean train;
    private final int n0;
    private final float[][] masks;
    private final BlockTape[] tapes;
    private AttentionTape attn;
    private float[] emb;
    private float[] a0;
    private float[] s0;
    private float[] tact;
    private float[] st;
    private final List<float[]> hs = new ArrayList<>();
    /** Inputs of the way down's ops, the way up's ops, and the output's GroupNorm. */
    private final List<float[]> downInputs = new ArrayList<>();
    private final List<float[]> upInputs = new ArrayList<>();
    private float[] outH;
    private float[] outMean;
    private float[] outRstd;
    private float[] outA;
    private float[] outS;

    /** See {@link UNetNetwork#pass}. */
    private Pass(UNetWorkspace ws, int nb, boolean train, int n0, float[][] masks) {
      ws.reset();
      this.ws = ws;
      this.nb = nb;
      this.train = train;
      this.n0 = n0;
      this.masks = masks;
      this.tapes = new BlockTape[blocks];
    }

    private void done(float[] a) {
      if (!train) {
        ws.give(a);
      }
    }

    /**
     * The forward pass.
     *
     * @param x the input, {@code [C][nb][H * W]}
     * @param timesteps the items' timesteps
     * @return the output, {@code [C][nb][H * W]}
     */
    float[] forward(float[] x, int[] timesteps) {
      int ch = spec.baseChannels();
      int tc = spec.embeddingChannels();
      emb = spec.timestepEmbedding(timesteps);
      a0 = ws.take(nb * tc);
      dense0.forward(ws, emb, nb, a0);
      s0 = ws.take(nb * tc);
      UNetKernels.silu(a0, s0, nb * tc, ws.math());
      tact = ws.take(nb * tc);
      dense1.forward(ws, a0, nb, tact);
      st = ws.take(nb * tc);
      UNetKernels.silu(tact, st, nb * tc, ws.math());
      done(a0);
      done(s0);
      done(st);

      float[] h = ws.take(ch * nb * convIn.outPositions());
      downInputs.add(x);
      convIn.forward(ws, x, nb, h);
      hs.add(h);
      for (Object op : downOps) {
        downInputs.add(h);
        if (op instanceof Block b) {
          h = block(b, h);
        } else {
          Conv2d c = (Conv2d) op;
          float[] d = ws.take(c.cout * nb * c.outPositions());
          c.forward(ws, h, nb, d);
          h = d;
        }
        hs.add(h);
      }
      h = block(mid1, h);
      if (attention != null) {
        float[] a = attend(h);
        done(h);
        h = a;
      }
      float[] m2 = block(mid2, h);
      done(h);
      h = m2;
      int next = hs.size();
      for (Object op : upOps) {
        if (op instanceof Block b) {
          float[] skip = hs.get(--next);
          int hc = b.cin() - skipC[next];
          float[] cat = ws.take(b.cin() * nb * b.p());
          System.arraycopy(h, 0, cat, 0, hc * nb * b.p());
          System.arraycopy(skip, 0, cat, hc * nb * b.p(), (b.cin() - hc) * nb * b.p());
          done(h);
          done(skip);
          upInputs.add(cat);
          h = block(b, cat);
          done(cat);
        } else {
          Upsample u = (Upsample) op;
          float[] big = ws.take(u.c() * nb * 4 * u.h() * u.w());
          UNetKernels.upsample2(h, u.c() * nb, u.h(), u.w(), big);
          done(h);
          upInputs.add(big);
          h = ws.take(u.c() * nb * 4 * u.h() * u.w());
          u.conv().forward(ws, big, nb, h);
          done(big);
        }
      }
      Norm n = normOut;
      outH = h;
      outMean = ws.take(nb * spec.groups());
      outRstd = ws.take(nb * spec.groups());
      outA = ws.take(n.c() * nb * n.p());
      outS = ws.take(n.c() * nb * n.p());
      groupNorm(n, h, outMean, outRstd, outA, outS);
      float[] out = ws.take(convOut.cout * nb * n.p());
      convOut.forward(ws, outA, nb, out);
      done(h);
      done(outA);
      done(outS);
      done(outMean);
      done(outRstd);
      return out;
    }

    private void groupNorm(Norm n, float[] x, float[] mean, float[] rstd, float[] y, float[] sigmoid) {
      UNetKernels.groupNorm(x, n.c(), nb, n.p(), spec.groups(), UNetSpec.GROUP_NORM_EPS, state.weights, n.off(),
          mean, rstd, y, sigmoid, ws.math());
    }

    private void groupNormBackward(Norm n, float[] x, float[] dy, float[] mean, float[] rstd, float[] dx,
        boolean accumulate) {
      UNetKernels.groupNormBackward(x, dy, n.c(), nb, n.p(), spec.groups(), state.weights, n.off(), mean, rstd,
          state.gradient, dx, accumulate, ws.doubles(2 * nb * spec.groups()));
    }

    private float[] block(Block b, float[] x) {
      int m = nb * b.p();
      int g = nb * spec.groups();
      BlockTape t = new BlockTape();
      t.x = x;
      t.mean1 = ws.take(g);
      t.rstd1 = ws.take(g);
      t.a1 = ws.take(b.cin() * m);
      t.s1 = ws.take(b.cin() * m);
      groupNorm(b.norm1(), x, t.mean1, t.rstd1, t.a1, t.s1);
      t.h = ws.take(b.cout() * m);
      b.conv1().forward(ws, t.a1, nb, t.h);
      float[] tp = ws.take(nb * b.cout());
      b.tembProj().forward(ws, tact, nb, tp);
      UNetKernels.addPerItemChannel(t.h, b.cout(), nb, b.p(), tp);
      ws.give(tp);
      done(t.a1);
      done(t.s1);
      done(t.mean1);
      done(t.rstd1);
      t.mean2 = ws.take(g);
      t.rstd2 = ws.take(g);
      t.a2 = ws.take(b.cout() * m);
      t.s2 = ws.take(b.cout() * m);
      groupNorm(b.norm2(), t.h, t.mean2, t.rstd2, t.a2, t.s2);
      done(t.h);
      done(t.s2);
      done(t.mean2);
      done(t.rstd2);
      t.u = t.a2;
      if (masks != null) {
        t.u = ws.take(b.cout() * m);
        UNetKernels.applyMask(t.a2, masks[b.index()], n0, b.cout(), nb, b.p(), t.u);
        done(t.a2);
      }
      float[] out = ws.take(b.cout() * m);
      b.conv2().forward(ws, t.u, nb, out);
      done(t.u);
      if (b.shortcut() != null) {
        float[] sc = ws.take(b.cout() * m);
        b.shortcut().forward(ws, x, nb, sc);
        UNetKernels.addTo(out, sc, b.cout() * m);
        ws.give(sc);
      } else {
        UNetKernels.addTo(out, x, b.cout() * m);
      }
      if (train) {
        tapes[b.index()] = t;
      }
      return out;
    }

    private float[] attend(float[] x) {
      Attention at = attention;
      int c = at.c();
      int p = at.p();
      int m = nb * p;
      AttentionTape t = new AttentionTape();
      t.x = x;
      t.mean = ws.take(nb * spec.groups());
      t.rstd = ws.take(nb * spec.groups());
      t.xn = ws.take(c * m);
      groupNorm(at.norm(), x, t.mean, t.rstd, t.xn, null);
      t.qkv = ws.take(3 * c * m);
      at.qkv().forward(ws, t.xn, nb, t.qkv);
      done(t.xn);
      done(t.mean);
      done(t.rstd);
      Buffer qkv = ws.slot(Slot.QKV, 3L * c * m);
      Buffer w = ws.slot(Slot.ATTENTION, (long) nb * p * p);
      Buffer ho = ws.slot(Slot.ATTENTION_OUT, (long) c * m);
      qkv.buffer.put(0, t.qkv, 0, 3 * c * m);
      done(t.qkv);
      for (int j = 0; j < nb; j++) {
        // logits[i][k] = sum_c q[c][i] k[c][k]
        Blas.gemm(true, false, p, p, c, qkv.at((long) j * p), m, qkv.at((long) c * m + j * p), m, 0f,
            w.at((long) j * p * p), p);
      }
      t.w = ws.take(nb * p * p);
      w.buffer.get(0, t.w, 0, nb * p * p);
      UNetKernels.softmaxRows(t.w, nb * p, p, (float) (1.0 / Math.sqrt(c)), ws.math());
      w.buffer.put(0, t.w, 0, nb * p * p);
      done(t.w);
      for (int j = 0; j < nb; j++) {
        // h[c][i] = sum_k v[c][k] w[i][k]
        Blas.gemm(false, true, c, p, p, qkv.at(2L * c * m + (long) j * p), m, w.at((long) j * p * p), p, 0f,
            ho.at((long) j * p), m);
      }
      t.h = ws.take(c * m);
      ho.buffer.get(0, t.h, 0, c * m);
      float[] out = ws.take(c * m);
      at.projOut().forward(ws, t.h, nb, out);
      done(t.h);
      UNetKernels.addTo(out, x, c * m);
      if (train) {
        attn = t;
      }
      return out;
    }

    // ------------------------------------------------------------------------------ backward

    /**
     * The backward pass after {@link #forward} of a training pass: adds every weight's gradient to the
     * state's gradient.
     *
     * @param dOut the gradient of the loss with respect to the output, {@code [C][nb][H * W]}
     */
    void backward(float[] dOut) {
      Norm n = normOut;
      int tc = spec.embeddingChannels();
      float[] dTact = ws.take(nb * tc);
      Arrays.fill(dTact, 0, nb * tc, 0f);
      float[] dA = ws.take(n.c() * nb * n.p());
      convOut.backward(ws, outA, dOut, nb, dA, false);
      UNetKernels.siluBackward(dA, outA, outS, n.c() * nb * n.p());
      float[] dH = ws.take(n.c() * nb * n.p());
      groupNormBackward(n, outH, dA, outMean, outRstd, dH, false);
      ws.give(dA);

      float[][] dSkip = new float[hs.size()][];
      // the last block of the way up took the first skip activation, and so on
      int skipIndex = 0;
      int up = upInputs.size();
      for (int i = upOps.size() - 1; i >= 0; i--) {
        Object op = upOps.get(i);
        float[] in = upInputs.get(--up);
        if (op instanceof Block b) {
          float[] dCat = ws.take(b.cin() * nb * b.p());
          blockBackward(b, dH, dCat, dTact);
          ws.give(dH);
          int sc = skipC[skipIndex];
          int hc = b.cin() - sc;
          float[] ds = ws.take(sc * nb * b.p());
          System.arraycopy(dCat, hc * nb * b.p(), ds, 0, sc * nb * b.p());
          dSkip[skipIndex++] = ds;
          dH = dCat;
        } else {
          Upsample u = (Upsample) op;
          float[] dBig = ws.take(u.c() * nb * 4 * u.h() * u.w());
          u.conv().backward(ws, in, dH, nb, dBig, false);
          ws.give(dH);
          dH = ws.take(u.c() * nb * u.h() * u.w());
          UNetKernels.upsample2Backward(dBig, u.c() * nb, u.h(), u.w(), dH);
          ws.give(dBig);
        }
      }
      float[] d = ws.take(mid2.cin() * nb * mid2.p());
      blockBackward(mid2, dH, d, dTact);
      ws.give(dH);
      dH = d;
      if (attention != null) {
        d = ws.take(attention.c() * nb * attention.p());
        attentionBackward(dH, d);
        ws.give(dH);
        dH = d;
      }
      d = ws.take(mid1.cin() * nb * mid1.p());
      blockBackward(mid1, dH, d, dTact);
      ws.give(dH);
      dH = d;
      for (int i = downOps.size() - 1; i >= -1; i--) {
        float[] skip = dSkip[i + 1];
        UNetKernels.addTo(dH, skip, skipC[i + 1] * nb * skipP[i + 1]);
        ws.give(skip);
        float[] in = downInputs.get(i + 1);
        if (i < 0) {
          convIn.backward(ws, in, dH, nb, null, false);
          ws.give(dH);
          break;
        }
        Object op = downOps.get(i);
        if (op instanceof Block b) {
          d = ws.take(b.cin() * nb * b.p());
          blockBackward(b, dH, d, dTact);
        } else {
          Conv2d c = (Conv2d) op;
          d = ws.take(c.cin * nb * c.hin * c.win);
          c.backward(ws, in, dH, nb, d, false);
        }
        ws.give(dH);
        dH = d;
      }
      // the timestep embedding: tact = silu(dense1(silu(dense0(emb))))
      UNetKernels.siluBackward(dTact, tact, st, nb * tc);
      float[] dA0 = ws.take(nb * tc);
      Arrays.fill(dA0, 0, nb * tc, 0f);
      dense1.backward(ws, a0, dTact, nb, dA0);
      UNetKernels.siluBackward(dA0, a0, s0, nb * tc);
      dense0.backward(ws, emb, dA0, nb, null);
      ws.give(dA0);
      ws.give(dTact);
    }

    private void blockBackward(Block b, float[] dOut, float[] dx, float[] dTact) {
      BlockTape t = tapes[b.index()];
      int m = nb * b.p();
      if (b.shortcut() != null) {
        b.shortcut().backward(ws, t.x, dOut, nb, dx, false);
      } else {
        System.arraycopy(dOut, 0, dx, 0, b.cout() * m);
      }
      float[] du = ws.take(b.cout() * m);
      b.conv2().backward(ws, t.u, dOut, nb, du, false);
      if (masks != null) {
        UNetKernels.applyMask(du, masks[b.index()], n0, b.cout(), nb, b.p(), du);
      }
      UNetKernels.siluBackward(du, t.a2, t.s2, b.cout() * m);
      float[] dh = ws.take(b.cout() * m);
      groupNormBackward(b.norm2(), t.h, du, t.mean2, t.rstd2, dh, false);
      ws.give(du);
      float[] dtp = ws.take(nb * b.cout());
      UNetKernels.sumPerItemChannel(dh, b.cout(), nb, b.p(), dtp);
      b.tembProj().backward(ws, tact, dtp, nb, dTact);
      ws.give(dtp);
      float[] da = ws.take(b.cin() * m);
      b.conv1().backward(ws, t.a1, dh, nb, da, false);
      ws.give(dh);
      UNetKernels.siluBackward(da, t.a1, t.s1, b.cin() * m);
      groupNormBackward(b.norm1(), t.x, da, t.mean1, t.rstd1, dx, true);
      ws.give(da);
    }

    private void attentionBackward(float[] dOut, float[] dx) {
      Attention at = attention;
      AttentionTape t = attn;
      int c = at.c();
      int p = at.p();
      int m = nb * p;
      System.arraycopy(dOut, 0, dx, 0, c * m);
      float[] dh = ws.take(c * m);
      at.projOut().backward(ws, t.h, dOut, nb, dh, false);
      Buffer qkv = ws.slot(Slot.QKV, 3L * c * m);
      Buffer w = ws.slot(Slot.ATTENTION, (long) nb * p * p);
      Buffer dho = ws.slot(Slot.ATTENTION_OUT, (long) c * m);
      Buffer dqkv = ws.slot(Slot.QKV_GRADIENT, 3L * c * m);
      qkv.buffer.put(0, t.qkv, 0, 3 * c * m);
      w.buffer.put(0, t.w, 0, nb * p * p);
      dho.buffer.put(0, dh, 0, c * m);
      ws.give(dh);
      Buffer dw = ws.slot(Slot.COLUMN_GRADIENT, (long) nb * p * p);
      for (int j = 0; j < nb; j++) {
        long col = (long) j * p;
        long pp = (long) j * p * p;
        // dv[c][k] = sum_i dh[c][i] w[i][k];  dw[i][k] = sum_c dh[c][i] v[c][k]
        Blas.gemm(false, false, c, p, p, dho.at(col), m, w.at(pp), p, 0f, dqkv.at(2L * c * m + col), m);
        Blas.gemm(true, false, p, p, c, dho.at(col), m, qkv.at(2L * c * m + col), m, 0f, dw.at(pp), p);
      }
      float[] dl = ws.take(nb * p * p);
      dw.buffer.get(0, dl, 0, nb * p * p);
      UNetKernels.softmaxRowsBackward(dl, t.w, nb * p, p, (float) (1.0 / Math.sqrt(c)));
      dw.buffer.put(0, dl, 0, nb * p * p);
      ws.give(dl);
      for (int j = 0; j < nb; j++) {
        long col = (long) j * p;
        long pp = (long) j * p * p;
        // dq[c][i] = sum_k k[c][k] dl[i][k];  dk[c][k] = sum_i q[c][i] dl[i][k]
        Blas.gemm(false, true, c, p, p, qkv.at((long) c * m + col), m, dw.at(pp), p, 0f, dqkv.at(col), m);
        Blas.gemm(false, false, c, p, p, qkv.at(col), m, dw.at(pp), p, 0f, dqkv.at((long) c * m + col), m);
      }
      float[] dq = ws.take(3 * c * m);
      dqkv.buffer.get(0, dq, 0, 3 * c * m);
      float[] dxn = ws.take(c * m);
      at.qkv().backward(ws, t.xn, dq, nb, dxn, false);
      ws.give(dq);
      groupNormBackward(at.norm(), t.x, dxn, t.mean, t.rstd, dx, true);
      ws.give(dxn);
    }
  }
}
