#!/usr/bin/env bash
# run.sh ARGS...: compiles InteropClient.java against Kafka's jars
# ($KAFKA_LIB, else tests/kafka/lib) into a temporary directory and runs it
# with ARGS (InteropClient.java says which). Exit 77 when the jars, java or
# javac are missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${KAFKA_LIB:-$here/../../kafka/lib}
if ! compgen -G "$lib/kafka-clients-*.jar" >/dev/null; then
  echo "no Kafka jars in $lib (.ci/install-kafka installs them): skipped" >&2
  exit 77
fi
for tool in java javac; do
  command -v "$tool" >/dev/null || { echo "$tool not found: skipped" >&2; exit 77; }
done
classes=$(mktemp -d "${TMPDIR:-/tmp}/kwire-interop-java.XXXXXX")
trap 'rm -rf "$classes"' EXIT
if ! javac -nowarn -d "$classes" -cp "$lib/*" "$here/InteropClient.java" 2>"$classes/javac.log"; then
  cat "$classes/javac.log" >&2
  echo "javac failed" >&2
  exit 1
fi
java -cp "$lib/*:$classes" InteropClient "$@"
