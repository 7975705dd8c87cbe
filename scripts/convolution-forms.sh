#!/usr/bin/env bash
# Times ND4J's forms of the convolutions (direct loop, Winograd, im2col products, the backend's default choice,
# and that choice with the weight gradients from columns: default-columns)
# on every distinct 3x3 stride-1 layer of a model, all forms in one JVM and alternating layer by layer, so that
# the machine's drift between processes does not pass for a difference between forms. Prints one line per
# layer (forward / training milliseconds per form) and the totals weighted by how many layers have each shape.
#
#   scripts/convolution-forms.sh MODEL TRIES THREADS FORMS [BATCH]
#   scripts/convolution-forms.sh ddpm 3 1 direct,winograd,im2col,default
#
# MODEL: unet (the default U-Net on 1x32x32, batch 64) or ddpm (the DDPM authors' CIFAR-10 model, batch 16).
# The tool is ConvolutionForms in backend-nd4j's test sources (it reaches the backend's package-private forms);
# this builds them with the offline Maven wrapper first. docs/benchmarks.md, "Zen 5: which form for which
# convolution".
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
cp_file="$here/backend-nd4j/target/convolution-forms.classpath"
./mvnw -q -B -o -pl backend-nd4j -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >&2
java_cmd="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java_cmd" --add-modules jdk.incubator.vector -Xmx4g \
  -cp "$here/backend-nd4j/target/test-classes:$here/backend-nd4j/target/classes:$(cat "$cp_file")" \
  io.github.diffusion4j.backend.nd4j.ConvolutionForms "$@"
