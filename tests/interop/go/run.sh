#!/usr/bin/env bash
# run.sh ARGS...: builds main.go (franz-go as go.mod and go.sum pin it) into a
# temporary directory and runs it with ARGS (main.go says which). Nothing is
# fetched here (GOPROXY=off, -mod=readonly): .ci/install-interop downloads the
# modules and warms the build cache. Exit 77 when go or the modules are missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null || { echo "go not found: skipped" >&2; exit 77; }
export GOFLAGS=-mod=readonly GOPROXY=off GOTOOLCHAIN=local
cd "$here"
if ! go list -m all >/dev/null 2>&1; then
  echo "franz-go modules not downloaded (bash .ci/install-interop): skipped" >&2
  exit 77
fi
bin=$(mktemp -d "${TMPDIR:-/tmp}/kwire-interop-go.XXXXXX")
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/kgo-interop" . || { echo "go build failed" >&2; exit 1; }
"$bin/kgo-interop" "$@"
