#!/usr/bin/env bash
# Runs the conformance suite (test/conformance/) against the built package on every runtime
# given, writing one JSON result per runtime into <results-dir>, then checks docs/runtimes.md
# against them (or rewrites it with --write). Used by .ci/run; needs `npm run build` first.
#   RUNTIMES="node:/path/to/node deno:/path/to/deno bun:/path/to/bun" scripts/conformance.sh <results-dir> [--write]
# Exits 1 when a test fails on any runtime or the table is stale.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/conformance.sh <results-dir> [--write]}
mode=${2:---check}
rm -rf "$out" && mkdir -p "$out"
failed=0
for entry in ${RUNTIMES:-node:$(command -v node)}; do
  kind=${entry%%:*} bin=${entry#*:}
  case "$kind" in
    node | bun) cmd=("$bin" test/conformance/run.mjs) ;;
    deno) cmd=("$bin" run -A test/conformance/run.mjs) ;;
    *) echo "unknown runtime kind: $kind" >&2; exit 2 ;;
  esac
  name="$kind-$("$bin" --version 2>/dev/null | head -1 | tr -cd '[:alnum:].-' )"
  echo "--- conformance on $kind ($bin)"
  CONFORMANCE_RESULTS="$out/$name.json" "${cmd[@]}" || failed=1
  [ -f "$out/$name.json" ] || { echo "no results from $kind"; failed=1; }
done
if [ "$mode" = "--write" ]; then
  node scripts/runtimes-table.mjs "$out" || failed=1
else
  node scripts/runtimes-table.mjs "$out" --check || failed=1
fi
exit $failed
