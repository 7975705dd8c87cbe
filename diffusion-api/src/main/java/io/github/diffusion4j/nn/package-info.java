/**
 * Networks written once: the closed set of layer kinds ({@link io.github.diffusion4j.nn.Layer}), networks
 * built from them ({@link io.github.diffusion4j.nn.Network}, {@link io.github.diffusion4j.nn.NetworkBuilder}),
 * and the layer SPI that every backend implements ({@link io.github.diffusion4j.nn.LayerBackend},
 * {@link io.github.diffusion4j.nn.Kernel}, {@link io.github.diffusion4j.nn.Pass},
 * {@link io.github.diffusion4j.nn.ParameterStore}).
 *
 * <p>An architecture (the tutorial MLP, the DDPM U-Nets, diffusers' {@code UNet2DModel}) is a method that
 * calls a {@link io.github.diffusion4j.nn.NetworkBuilder}; the model package evaluates the resulting graph
 * on any backend, so a new architecture made of existing layer kinds needs no backend code. A backend
 * implements each layer kind once, with a hand-written backward pass or with its engine's autograd.
 * This package depends only on {@code tensor} and {@code random}.
 */
package io.github.diffusion4j.nn;
