#!/usr/bin/env bash
# Line and branch coverage of the whole suite, in one report over every module (docs/reliability.md, "Coverage"):
#
#   scripts/coverage.sh            # ./mvnw -Pcoverage verify, then the report in target/coverage
#   scripts/coverage.sh --report   # the report only, from the last -Pcoverage run's target/jacoco.exec files
#   scripts/coverage.sh --check    # the build and the report, then exit 1 where a module's coverage is below its
#                                  # floor in scripts/coverage/floors.txt (CI's second pass)
#
# Each module's own report (its classes, its tests) is in MODULE/target/site/jacoco after the build; this one counts
# a class as tested wherever its tests live (the api's classes are exercised by the testkit, the backends and the
# command line too). Child JVMs that tests start (the command line's signal tests, Spark's) carry the same agent and
# are measured (testkit's ChildJvm); the JMH suite's cases run once each (JmhSuiteSmokeTest), its timing not. The
# Maven build takes a little longer than the plain suite (11:30 against 10:02 on a quiet Zen 4). Maven's own
# MAVEN_ARGS reach it (MAVEN_ARGS="-o -Dmaven.repo.local=DIR"; give MAVEN_REPO=DIR to the report too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
floors=()
case "${1:-}" in
  --report) ;;
  --check) (cd "$root" && ./mvnw -B -Pcoverage verify); floors=("$root/scripts/coverage/floors.txt") ;;
  '') (cd "$root" && ./mvnw -B -Pcoverage verify) ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
repo=${MAVEN_REPO:-$HOME/.m2/repository}
jacoco=0.8.15 # the root pom's coverage profile
asm=9.10.1    # JaCoCo 0.8.15's
cp=""
for j in org/jacoco/org.jacoco.core/$jacoco/org.jacoco.core-$jacoco.jar \
    org/jacoco/org.jacoco.report/$jacoco/org.jacoco.report-$jacoco.jar \
    org/ow2/asm/asm/$asm/asm-$asm.jar org/ow2/asm/asm-tree/$asm/asm-tree-$asm.jar \
    org/ow2/asm/asm-commons/$asm/asm-commons-$asm.jar; do
  [ -f "$repo/$j" ] || { echo "coverage: $repo/$j is missing; run the -Pcoverage build first (it downloads JaCoCo), or set MAVEN_REPO" >&2; exit 2; }
  cp="$cp${cp:+:}$repo/$j"
done
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "$cp" "$root/scripts/coverage/CoverageReport.java" "$root" "$root/target/coverage" "${floors[@]}"
