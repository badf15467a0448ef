#!/usr/bin/env bash
# End-to-end test of `fledge lsp` in a real editor: headless Neovim (../shared/editors/nvim)
# drives the release binary through the scenarios in scenarios/ (examples/shop and
# examples/rules: diagnostics, hover, definition, completion, edits that change diagnostics,
# code actions, inlay hints, code lenses, fledge/graph, rename, symbols) and one generated
# scenario that opens a 10 MB file.
#
# Usage: tests/e2e/nvim/run.sh [SCENARIO.json ...]
#   NVIM_HARNESS  harness folder (default: <repo>/../shared/editors/nvim)
#   OUT_DIR       where results go (default: a temp folder, kept only on failure)
#   FLEDGE_BIN    use this fledge binary instead of building one
# Exit status: 0 when every scenario passed, 1 otherwise (2: setup failed). The last line is
# `N passed, M failed`.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
harness="${NVIM_HARNESS:-$repo/../shared/editors/nvim}"
die() { echo "nvim e2e: $*" >&2; echo "0 passed, 1 failed"; exit 2; }

[ -x "$harness/run.sh" ] || die "no harness at $harness (set NVIM_HARNESS)"
nvim="$("$harness/install.sh")" || die "installing Neovim failed"

if [ -n "${FLEDGE_BIN:-}" ]; then
  bin="$FLEDGE_BIN"
else
  (cd "$repo" && cargo build --release --quiet -p fledge-cli) || die "cargo build failed"
  target="${CARGO_TARGET_DIR:-$repo/target}"
  case "$target" in /*) ;; *) target="$repo/$target" ;; esac
  bin="$target/release/fledge"
fi
[ -x "$bin" ] || die "no fledge binary at $bin"
bindir="$(mktemp -d)"
ln -s "$(realpath "$bin")" "$bindir/fledge"
export PATH="$bindir:$PATH"

out="${OUT_DIR:-}"
keep_out=1
if [ -z "$out" ]; then out="$(mktemp -d)"; keep_out=0; fi
mkdir -p "$out"
work="$(mktemp -d)"
cleanup() { rm -rf "$bindir" "$work"; [ "$keep_out" = 1 ] || rm -rf "$out"; }
trap cleanup EXIT

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=("$here"/scenarios/*.json)
  # A 10 MB module in a throwaway project: opened, hovered, edited, never a crash.
  mkdir -p "$work/huge/pkg"
  printf '[project]\nname = "huge"\n' > "$work/huge/pyproject.toml"
  : > "$work/huge/pkg/__init__.py"
  python3 - "$work/huge/pkg/big.py" <<'PY'
import sys
parts, n, i = ["from flytekit import task, workflow\n\n\n"], 0, 0
while n < 10 << 20:
    p = f'@task\ndef t{i}(a: int, b: str = "x") -> int:\n    return a + len(b)  # é😀\n\n\n'
    parts.append(p); n += len(p.encode()); i += 1
parts.append("@workflow\ndef wf(a: int) -> int:\n    return t0(a=a, c=1)\n")
open(sys.argv[1], "w", encoding="utf-8").write("".join(parts))
PY
  cat > "$work/huge.json" <<JSON
{
  "name": "fledge", "cmd": ["fledge", "lsp", "--stdio"],
  "file": "$work/huge/pkg/big.py", "root": "$work/huge", "timeout_ms": 60000,
  "steps": [
    {"op": "wait_diagnostics", "settle_ms": 200, "expect_codes": ["unknown-input"], "expect_max": 1},
    {"op": "request", "method": "textDocument/hover", "line": 4, "character": 5, "expect_contains": ["**task** \`pkg.big.t0\`"]},
    {"op": "edit", "start_line": 1, "end_line": 1, "lines": ["import os"]},
    {"op": "wait_diagnostics", "settle_ms": 200, "expect_codes": ["unknown-input"]},
    {"op": "request", "method": "textDocument/hover", "line": 5, "character": 5, "expect_contains": ["**task** \`pkg.big.t0\`"]}
  ]
}
JSON
  scenarios+=("$work/huge.json")
fi

passed=0; failed=0; failed_names=()
for sc in "${scenarios[@]}"; do
  name="$(basename "$sc" .json)"
  start=$(date +%s%N)
  if "$harness/run.sh" "$sc" "$out/$name.json" "$nvim" 2> "$out/$name.summary"; then
    passed=$((passed + 1)); status=PASS
  else
    failed=$((failed + 1)); status=FAIL; failed_names+=("$name")
  fi
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$status $name (${ms} ms)"
  if [ "$status" = FAIL ]; then
    sed 's/^/    /' "$out/$name.summary"
    keep_out=1
  fi
done
if [ "$failed" -gt 0 ]; then echo "results kept in $out (failed: ${failed_names[*]})"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
