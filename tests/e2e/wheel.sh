#!/usr/bin/env bash
# End to end: fledge as Python users install it. Builds the `flyte-fledge` wheel
# (scripts/build-wheel.sh), installs it from the file into a fresh venv (pip --no-index: no index
# is consulted for it), and runs the installed `fledge` the way users and pre-commit do:
#
#   tests/e2e/wheel.sh
#
#   build            scripts/build-wheel.sh prints an existing .whl (time reported)
#   install          `pip install --no-index WHEEL` into a new venv; `fledge` lands in venv/bin
#   version          `fledge --version` is `fledge <Cargo version> (<git commit>)`
#   python -m        `python -m fledge --version` says the same
#   check shop       `fledge check examples/shop` exits 0
#   check rules      `fledge check examples/rules` exits 1 and reports type-mismatch, missing-input, ...
#   markers          tests/e2e/examples_match_markers.py with the installed binary: exactly the
#                    `# expect:` markers of examples/rules and none in examples/shop
#   init             `fledge init` on a copy of examples/rules appends [tool.fledge] (which reads back
#                    as the defaults), prints a hook entry equal to .pre-commit-hooks.yaml's, and
#                    refuses a second time
#   completions      `fledge completions bash` loads into bash
#   uv tool          `uv tool install --offline WHEEL` (uv pinned below, from PyPI) gives a working
#                    `fledge` in uv's tool bin folder
#   pre-commit local `pre-commit run --all-files` (pre-commit pinned below, from PyPI) in a temp git
#                    repo holding a copy of examples/rules, with the `repo: local` entry `fledge init`
#                    printed: fails, and its output names type-mismatch and missing-input
#   pre-commit repo  the same through `repo: <git repo with our .pre-commit-hooks.yaml>`, `rev: <sha>`
#                    (what users write), on examples/rules (fails) and on examples/shop (passes)
#
# Needs: the Rust toolchain, Python 3.8+ with venv (FLEDGE_PYTHON, default python3), git, and PyPI
# (maturin once; uv, pre-commit and pre-commit's dependencies once per run). Temporary files go under one mktemp
# folder, removed at the end (KEEP_TMP=1 keeps it).
# Prints `ok`/`FAIL` per check and `N passed, M failed` last; exits 1 when a check failed.
set -uo pipefail

PRE_COMMIT_VERSION=4.7.0
UV_VERSION=0.13.9

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${FLEDGE_PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/fledge-wheel-e2e.XXXXXX")"
if [[ "${KEEP_TMP:-0}" != 1 ]]; then trap 'rm -rf "$TMP"' EXIT; else echo "keeping $TMP"; fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
finish() {
  echo
  echo "$passed passed, $failed failed"
  (( failed == 0 )) || exit 1
  exit 0
}
# Shows the tail of a command's output when a check about it failed.
show() { sed 's/^/    | /' "$1" | tail -n "${2:-30}"; }

# --- build ---------------------------------------------------------------------------------------
echo "==> building the wheel (scripts/build-wheel.sh)"
t0=$SECONDS
WHEEL="$(scripts/build-wheel.sh 2>"$TMP/build.log" | tail -n1)"
if [[ -n "$WHEEL" && -f "$WHEEL" && "$WHEEL" == *.whl ]]; then
  ok "build: $(basename "$WHEEL") ($(du -h "$WHEEL" | cut -f1)) in $((SECONDS - t0))s"
else
  show "$TMP/build.log" 40
  fail "build: scripts/build-wheel.sh printed no wheel (got '${WHEEL}')"
  finish
fi

# --- install -------------------------------------------------------------------------------------
VENV="$TMP/venv"
if "$PY" -m venv "$VENV" >"$TMP/venv.log" 2>&1 \
  && "$VENV/bin/python" -m pip install --no-index --no-deps --disable-pip-version-check -q "$WHEEL" >>"$TMP/venv.log" 2>&1 \
  && [[ -x "$VENV/bin/fledge" ]]; then
  ok "install: pip install --no-index $(basename "$WHEEL") put fledge in venv/bin"
else
  show "$TMP/venv.log"
  fail "install: the wheel did not install into a fresh venv (or no venv/bin/fledge)"
  finish
fi
export PATH="$VENV/bin:$PATH"
hash -r
if [[ "$(command -v fledge)" != "$VENV/bin/fledge" ]]; then
  fail "install: \`fledge\` on PATH is $(command -v fledge), not the venv's"
fi

# --- version -------------------------------------------------------------------------------------
want_version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"
want_commit="$(git rev-parse --short=9 HEAD 2>/dev/null || echo 'unknown commit')"
version="$(fledge --version 2>&1)"
if [[ "$version" =~ ^fledge\ ${want_version//./\\.}\ \(([0-9a-f]{7,40})\)$ ]] && [[ "${BASH_REMATCH[1]}" == "$want_commit" ]]; then
  ok "version: '$version'"
else
  fail "version: '$version' is not 'fledge $want_version ($want_commit)'"
fi
pm_version="$(python -m fledge --version 2>&1)"
if [[ "$pm_version" == "$version" ]]; then
  ok "python -m fledge --version: '$pm_version'"
else
  fail "python -m fledge --version: '$pm_version' (fledge --version: '$version')"
fi

# --- check ---------------------------------------------------------------------------------------
rc=0
fledge check examples/shop >"$TMP/shop.out" 2>&1 || rc=$?
if (( rc == 0 )); then ok "check: fledge check examples/shop exits 0"; else show "$TMP/shop.out"; fail "check: fledge check examples/shop exited $rc"; fi

rc=0
fledge check examples/rules >"$TMP/rules.out" 2>&1 || rc=$?
missing=()
for code in type-mismatch missing-input unknown-input incomplete-conditional invalid-resources dependency-cycle; do
  grep -q "error\[$code\]" "$TMP/rules.out" || missing+=("$code")
done
if (( rc == 1 )) && (( ${#missing[@]} == 0 )); then
  ok "check: fledge check examples/rules exits 1 with error[type-mismatch], error[missing-input], ..."
else
  show "$TMP/rules.out"
  fail "check: fledge check examples/rules exited $rc (want 1); codes not reported: ${missing[*]:-none}"
fi

if python tests/e2e/examples_match_markers.py --fledge "$VENV/bin/fledge" >"$TMP/markers.out" 2>&1; then
  ok "markers: the installed fledge reports exactly the # expect: markers ($(tail -n1 "$TMP/markers.out"))"
else
  show "$TMP/markers.out"
  fail "markers: tests/e2e/examples_match_markers.py --fledge venv/bin/fledge"
fi

# --- init ----------------------------------------------------------------------------------------
REPO_A="$TMP/repo-local"
cp -r examples/rules "$REPO_A"
find "$REPO_A" -name __pycache__ -prune -exec rm -rf {} +
before="$(cat "$REPO_A/pyproject.toml")"
rc=0
(cd "$REPO_A" && fledge init) >"$TMP/init.out" 2>&1 || rc=$?
# The hook entry is everything from `repos:` on.
sed -n '/^repos:/,$p' "$TMP/init.out" >"$TMP/snippet.yaml"
after="$(cat "$REPO_A/pyproject.toml")"
if (( rc == 0 )) && [[ "$after" == "$before"$'\n\n'"[tool.fledge]"* ]] && [[ -s "$TMP/snippet.yaml" ]]; then
  ok "init: appended [tool.fledge] to a copy of examples/rules/pyproject.toml and printed a hook entry"
else
  show "$TMP/init.out"
  fail "init: exit $rc; pyproject.toml or the printed entry is not as expected"
fi
rc=0
(cd "$REPO_A" && fledge init) >"$TMP/init2.out" 2>&1 || rc=$?
if (( rc == 1 )) && grep -q "already has a \[tool.fledge\] section" "$TMP/init2.out" && [[ "$(cat "$REPO_A/pyproject.toml")" == "$after" ]]; then
  ok "init: a second fledge init refuses (exit 1) and changes nothing"
else
  show "$TMP/init2.out"
  fail "init: a second fledge init exited $rc"
fi
rc=0
(cd "$REPO_A" && fledge check --format json) >"$TMP/init-check.json" 2>"$TMP/init-check.err" || rc=$?
if (( rc == 1 )) && python -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["diagnostics"]) >= 10' "$TMP/init-check.json" 2>/dev/null; then
  ok "init: the written [tool.fledge] is accepted by fledge check (same errors as before)"
else
  show "$TMP/init-check.err"
  fail "init: fledge check after init exited $rc"
fi

# --- completions ---------------------------------------------------------------------------------
if bash -c 'source <(fledge completions bash) && complete -p fledge' >"$TMP/compl.out" 2>&1; then
  ok "completions: fledge completions bash loads into bash"
else
  show "$TMP/compl.out"
  fail "completions: fledge completions bash"
fi

# --- uv tool install -----------------------------------------------------------------------------
# uv goes into the test venv; its tool environments and bin folder into the temp folder.
if python -m pip install --disable-pip-version-check -q "uv==$UV_VERSION" >"$TMP/uv.log" 2>&1 \
  && UV_TOOL_DIR="$TMP/uv-tools" UV_TOOL_BIN_DIR="$TMP/uv-bin" UV_CACHE_DIR="$TMP/uv-cache" UV_PYTHON_DOWNLOADS=never \
    uv tool install --offline --python "$VENV/bin/python" "$WHEEL" >>"$TMP/uv.log" 2>&1 \
  && [[ "$("$TMP/uv-bin/fledge" --version 2>&1)" == "$version" ]]; then
  rc=0
  "$TMP/uv-bin/fledge" check examples/rules >/dev/null 2>&1 || rc=$?
  if (( rc == 1 )); then ok "uv tool install --offline: $TMP/uv-bin/fledge works (uv $UV_VERSION)"; else fail "uv tool: fledge check examples/rules exited $rc"; fi
else
  show "$TMP/uv.log"
  fail "uv tool install --offline WHEEL (uv $UV_VERSION)"
fi

# --- pre-commit ----------------------------------------------------------------------------------
if python -m pip install --disable-pip-version-check -q "pre-commit==$PRE_COMMIT_VERSION" >"$TMP/pip-pre-commit.log" 2>&1; then
  ok "pre-commit: installed pre-commit $PRE_COMMIT_VERSION into the venv"
else
  show "$TMP/pip-pre-commit.log"
  fail "pre-commit: pip install pre-commit==$PRE_COMMIT_VERSION"
  finish
fi
export PRE_COMMIT_HOME="$TMP/pre-commit-home"
GIT=(git -c user.name=fledge-e2e -c user.email=fledge-e2e@localhost -c init.defaultBranch=main -c commit.gpgsign=false)

# The hook `fledge init` printed must be the one .pre-commit-hooks.yaml ships.
if python - "$TMP/snippet.yaml" .pre-commit-hooks.yaml >"$TMP/same-hook.out" 2>&1 <<'EOF'
import sys, yaml
snippet = yaml.safe_load(open(sys.argv[1]))
(local,) = snippet["repos"]
assert local["repo"] == "local", local
(hook,) = local["hooks"]
(shipped,) = yaml.safe_load(open(sys.argv[2]))
keys = ["id", "name", "entry", "language", "types_or", "pass_filenames", "require_serial"]
diff = {k: (hook.get(k), shipped.get(k)) for k in keys if hook.get(k) != shipped.get(k)}
assert not diff, f"fledge init's hook differs from .pre-commit-hooks.yaml: {diff}"
EOF
then
  ok "pre-commit: fledge init's repo: local entry equals .pre-commit-hooks.yaml's fledge-check hook"
else
  show "$TMP/same-hook.out"
  fail "pre-commit: fledge init's entry and .pre-commit-hooks.yaml differ"
fi

# Runs `pre-commit run --all-files` in repo $1 and checks its exit status is $2 (0 or 1);
# with $2 = 1 its output must name type-mismatch and missing-input.
pre_commit_run() {
  local repo="$1" want="$2" label="$3" rc=0 out="$TMP/pre-commit-$(basename "$1").out"
  (cd "$repo" && "${GIT[@]}" init -q . && "${GIT[@]}" add -A) >"$out" 2>&1 || { show "$out"; fail "$label: git init/add"; return; }
  (cd "$repo" && pre-commit run --all-files --color never) >"$out" 2>&1 || rc=$?
  if (( want == 0 )); then
    if (( rc == 0 )) && grep -q "fledge check.*Passed" "$out"; then
      ok "$label: pre-commit run --all-files passes"
    else
      show "$out"
      fail "$label: pre-commit run --all-files exited $rc (want 0, 'fledge check...Passed')"
    fi
  else
    if (( rc == 1 )) && grep -q "fledge check.*Failed" "$out" && grep -q "type-mismatch" "$out" && grep -q "missing-input" "$out"; then
      ok "$label: pre-commit run --all-files fails, reporting type-mismatch and missing-input"
    else
      show "$out"
      fail "$label: pre-commit run --all-files exited $rc (want 1 with type-mismatch and missing-input)"
    fi
  fi
}

cp "$TMP/snippet.yaml" "$REPO_A/.pre-commit-config.yaml"
pre_commit_run "$REPO_A" 1 "pre-commit local (examples/rules)"

# A hooks repository like the one users point at: our .pre-commit-hooks.yaml, committed.
HOOKS="$TMP/hooks-repo"
mkdir -p "$HOOKS"
cp .pre-commit-hooks.yaml "$HOOKS/"
if (cd "$HOOKS" && "${GIT[@]}" init -q . && "${GIT[@]}" add -A && "${GIT[@]}" commit -q -m hooks) >"$TMP/hooks.out" 2>&1; then
  rev="$(git -C "$HOOKS" rev-parse HEAD)"
  for ex in rules shop; do
    repo="$TMP/repo-$ex"
    cp -r "examples/$ex" "$repo"
    find "$repo" -name __pycache__ -prune -exec rm -rf {} +
    printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: fledge-check\n' "$HOOKS" "$rev" >"$repo/.pre-commit-config.yaml"
    if [[ "$ex" == rules ]]; then want=1; else want=0; fi
    pre_commit_run "$repo" "$want" "pre-commit repo (examples/$ex)"
  done
else
  show "$TMP/hooks.out"
  fail "pre-commit repo: could not make the hooks repository"
fi

finish
