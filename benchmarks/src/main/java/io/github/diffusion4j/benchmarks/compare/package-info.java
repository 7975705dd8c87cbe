/**
 * {@code diffusion bench}: whole workloads (the tutorial's MLP, the default U-Net, the DDPM authors' CIFAR-10
 * model, a pretrained model) timed on each backend, one child JVM per backend, against their PyTorch reference
 * scripts measured in the same run, with the ratios printed
 * ({@link io.github.diffusion4j.benchmarks.compare.Compare}, docs/benchmarks.md); the {@code cifar10} workload
 * measures the CIFAR-10 model's training memory instead. The launcher runs it from {@code target/benchmarks.jar}
 * as {@code ./diffusion bench ...}; the product's command line holds none of it.
 */
package io.github.diffusion4j.benchmarks.compare;
