package com.example.archfixture.bad;

/** Public, and a network of its own ({@code ArchitectureRules.backendIn}'s test fixture). */
public final class PublicMlpKernels {
  private PublicMlpKernels() {}
}
