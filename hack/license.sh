#!/usr/bin/env bash
# Checks, or adds, the license header of hack/boilerplate.go.txt on every tracked Go file.
#
#   hack/license.sh --check   list the files without the header; fail if there is one
#   hack/license.sh --fix     prepend the header (and a blank line) to those files
#
# A file has the header when the boilerplate's text appears, verbatim, before its package
# clause (generated files carry it after their //go:build line). --fix puts it after a
# leading //go:build block, since a build constraint may only follow line comments.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode="${1:-}"
case "$mode" in
  --check|--fix) ;;
  *) echo "usage: $0 --check|--fix" >&2; exit 2 ;;
esac

boilerplate="$(cat hack/boilerplate.go.txt)"

# has_header FILE: the boilerplate appears before the package clause.
has_header() {
  local head
  head="$(sed '/^package /q' "$1")"
  [[ "$head" == *"$boilerplate"* ]]
}

missing=()
while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  has_header "$f" || missing+=("$f")
done < <(git ls-files -z -- '*.go')

if [ "$mode" = --check ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    printf '%s\n' "${missing[@]}"
    echo "license: ${#missing[@]} Go file(s) above lack the header of hack/boilerplate.go.txt; run hack/license.sh --fix" >&2
    exit 1
  fi
  echo "license: every tracked Go file has the header"
  exit 0
fi

for f in "${missing[@]}"; do
  tmp="$(mktemp)"
  # Lines of a leading build-constraint block (//go:build, // +build and the blank line
  # after them) stay first.
  n="$(awk 'NR==1 && !/^\/\/(go:build| \+build)/ {print 0; exit}
            /^\/\/(go:build| \+build)/ {next}
            /^$/ {print NR; exit}
            {print NR-1; exit}' "$f")"
  n="${n:-0}"
  {
    if [ "$n" -gt 0 ]; then head -n "$n" "$f"; fi
    cat hack/boilerplate.go.txt
    echo
    tail -n +"$((n + 1))" "$f"
  } > "$tmp"
  cat "$tmp" > "$f"
  rm -f "$tmp"
  echo "license: added the header to $f"
done
echo "license: ${#missing[@]} file(s) fixed"
