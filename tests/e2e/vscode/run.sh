#!/usr/bin/env bash
# End-to-end test of the fledge VS Code extension in real VS Code: code-server 4.100.3 + headless
# Chromium + playwright-core, from the shared harness in ../shared/editors/vscode (beside the
# checkout), offline apart from the npm registry and apt.
#
#   tests/e2e/vscode/run.sh
#
# 1. installs code-server + playwright-core into the harness cache (once; install-code-server.sh),
# 2. builds the .vsix with the fledge binary bundled (vscode-extension/build.sh, FLEDGE_BUNDLE_BINARY),
# 3. copies examples/rules and examples/shop to a temp dir and runs e2e.js:
#    rules: the Problems panel lists every `# expect: <code>` of rules_demo/*.py at its line, the
#           status bar counts the errors, fledge.ignore reaches the server;
#    shop:  (with "fledge.path" set) the graph view of shop/pipeline.py `shop_report` draws > 5 nodes,
#           its screenshot is not one colour, clicks open the code, edits and cursor moves update it,
#           a wrong "fledge.path" gives a clear error.
# Prints one line per check and `N passed, M failed` last; exits 1 when something failed.
#
# Environment:
#   FLEDGE_BIN          the fledge binary (default: <repo>/target/release/fledge; `cargo build --release`)
#   FLEDGE_SHARED_DIR   the shared folder (default: <repo>/../shared)
#   FLEDGE_E2E_OUT      where screenshots, result.json and logs go (default: a new temp dir)
#   FLEDGE_E2E_ONLY     rules | shop: run one session only
#   FLEDGE_E2E_TIMEOUT_MS  per wait (default 60000)
#   FLEDGE_KEEP_STATE=1 keep code-server's state dir (logs) of a failed session
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
shared="${FLEDGE_SHARED_DIR:-$repo/../shared}/editors/vscode"
fledge_bin="${FLEDGE_BIN:-$repo/target/release/fledge}"
out="${FLEDGE_E2E_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/fledge-vscode-e2e.XXXXXX")}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

fail_setup() {
  echo "FAIL setup: $*"
  echo "0 passed, 1 failed"
  exit 1
}
now() { date +%s%N; }
took() { local d=$(( ($(now) - $1) / 100000000 )); echo "$((d / 10)).$((d % 10)) s"; }
t_all=$(now)

[ -f "$shared/lib/vscode-harness.js" ] || fail_setup "the VS Code harness is not at $shared (set FLEDGE_SHARED_DIR)"
[ -x "$fledge_bin" ] || fail_setup "no fledge binary at $fledge_bin (run \`cargo build --release\` or set FLEDGE_BIN)"
fledge_bin="$(cd "$(dirname "$fledge_bin")" && pwd)/$(basename "$fledge_bin")"
if ! timeout 20 "$fledge_bin" lsp --help </dev/null >/dev/null 2>&1; then
  fail_setup "$fledge_bin has no working \`lsp\` subcommand (\`fledge lsp --help\` failed)"
fi

t=$(now)
cs_dir="$("$shared/install-code-server.sh" | tail -1)" || fail_setup "install-code-server.sh failed"
echo "code-server: $cs_dir ($(took "$t"))" >&2

t=$(now)
vsix="$(FLEDGE_BUNDLE_BINARY="$fledge_bin" FLEDGE_VSIX_OUT="$out" "$repo/vscode-extension/build.sh" 2>"$out/build.log" | tail -1)" \
  || { tail -30 "$out/build.log" >&2; fail_setup "vscode-extension/build.sh failed (log: $out/build.log)"; }
[ -f "$vsix" ] || fail_setup "build.sh printed no .vsix path (log: $out/build.log)"
echo "extension: $vsix ($(took "$t"))" >&2

ws="$out/workspaces"
rm -rf "$ws"
mkdir -p "$ws"
cp -r "$repo/examples/rules" "$ws/rules"
cp -r "$repo/examples/shop" "$ws/shop"
# no settings from the checkout: session 1 must use the binary bundled in the .vsix
rm -rf "$ws/rules/.vscode" "$ws/shop/.vscode"

t=$(now)
rc=0
node "$here/e2e.js" --shared "$shared" --code-server "$cs_dir" --vsix "$vsix" --fledge "$fledge_bin" \
  --rules "$ws/rules" --shop "$ws/shop" --out "$out" | tee "$out/summary.txt" || rc=$?
echo "e2e: $(took "$t"); total $(took "$t_all"); results in $out" >&2
# `N passed, M failed` (printed by e2e.js) stays the last line of stdout
exit $rc
