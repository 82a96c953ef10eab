#!/usr/bin/env bash
# Runs the given generator command (e.g. `make manifests generate fmt`) and fails, printing
# the diff, when it changed any file under api/, config/, charts/kubesaga/templates/crds/ or any *.go file: generated code,
# manifests or formatting were stale.
#
# It compares the files before and after the generators instead of asking git for a clean
# tree, so it gives the same answer on a clean clone (CI) and in a working tree that holds
# uncommitted edits. Files are the tracked and untracked, non-ignored ones.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -eq 0 ]; then
  echo "usage: $0 <generator command...>" >&2
  exit 2
fi

list() { git ls-files -z --cached --others --exclude-standard -- api config charts/kubesaga/templates/crds '*.go' ; }

snap="$(mktemp -d)"
trap 'rm -rf "$snap"' EXIT
mkdir -p "$snap/before" "$snap/after"
list | sort -zu > "$snap/before.list"
if [ -s "$snap/before.list" ]; then
  # Deleted-but-tracked files are listed too; copy only what exists.
  xargs -0 -a "$snap/before.list" sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ |
    xargs -0 --no-run-if-empty cp --parents -t "$snap/before"
fi

"$@"

list | sort -zu > "$snap/after.list"
if [ -s "$snap/after.list" ]; then
  xargs -0 -a "$snap/after.list" sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _ |
    xargs -0 --no-run-if-empty cp --parents -t "$snap/after"
fi

if ! diff -ruN "$snap/before" "$snap/after" > "$snap/diff"; then
  sed -e "s#$snap/before/#a/#g" -e "s#$snap/after/#b/#g" "$snap/diff"
  echo >&2
  echo "verify: generated code, manifests or formatting are stale (diff above)." >&2
  echo "verify: run 'make manifests generate fmt' and commit the result." >&2
  exit 1
fi
echo "verify: generated code, manifests and formatting are up to date."
