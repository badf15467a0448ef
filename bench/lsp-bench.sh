#!/usr/bin/env bash
# Language-server benchmark: `fledge lsp` against pyright's language server, one run, same scenario.
#
#   bench/lsp-bench.sh                 # 500-module project, 200 edits, 50 completions
#   MODULES=200 EDITS=100 bench/lsp-bench.sh
#
# 1. builds fledge (`cargo build --release`) and copies the binary into a work dir;
# 2. generates a project with ../shared/bench/gen_project.py (--modules $MODULES --seed 1, no
#    planted errors) and picks the module of workflow wf_0250 (or the middle one);
# 3. runs bench/lsp_bench.py against each server (fledge first, then pyright 1.1.414 from npm,
#    told about the pinned flytekit venv): time to first diagnostics of the opened module
#    (workspace ready), didChange -> publishDiagnostics over $EDITS one-line edits (p50/p99),
#    completion latency inside a task call ($COMPLETIONS requests), peak RSS;
# 4. prints a markdown table, the pyright/fledge ratios, and PASS/MISS against the targets:
#    edit p50 < 10 ms, p99 < 50 ms, completion < 20 ms, ready < 1 s, memory < 300 MB,
#    edit p50 >= 10x faster than pyright.
# It is a bench, not a test: it exits 0 when targets are missed, non-zero only when something
# crashed. Environment: MODULES (500), EDITS (200), COMPLETIONS (50), SKIP_PYRIGHT=1, FLYTE_PY,
# FLEDGE_DEV_CACHE (default ~/.cache/fledge-dev), KEEP=1 keeps the work dir, OUT=file.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=bench/pyright.sh
. "$HERE/pyright.sh"
SHARED_BENCH="${SHARED_BENCH:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd || true)}"
CACHE="${FLEDGE_DEV_CACHE:-$HOME/.cache/fledge-dev}"
MODULES="${MODULES:-500}"
EDITS="${EDITS:-200}"
COMPLETIONS="${COMPLETIONS:-50}"

log() { printf 'lsp-bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

[ -f "$SHARED_BENCH/gen_project.py" ] || die "shared/bench/gen_project.py not found (set SHARED_BENCH)"
mkdir -p "$CACHE/bench"
WORK="$(mktemp -d "$CACHE/bench/lsp.XXXXXX")"
if [ "${KEEP:-0}" = "1" ]; then log "work dir (kept): $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

log "building fledge (cargo build --release)"
(cd "$REPO" && cargo build --release --quiet -p fledge-cli) || die "cargo build --release failed"
cp "$REPO/target/release/fledge" "$WORK/fledge"

if [ -z "${SKIP_PYRIGHT:-}" ]; then
  if [ -z "${FLYTE_PY:-}" ]; then
    log "setting up the pinned flytekit venv (scripts/setup-python.sh)"
    FLYTE_PY="$("$REPO/scripts/setup-python.sh" | tail -n1)"
  fi
  ensure_pyright "$CACHE/bench/pyright"
fi

log "generating a $MODULES-module project"
python3 "$SHARED_BENCH/gen_project.py" --modules "$MODULES" --seed 1 --out "$WORK/proj" >/dev/null \
  || die "gen_project.py failed"
MODULE="$(cd "$WORK/proj" && grep -l "^def wf_0250(" benchproj/*.py 2>/dev/null | head -n1 || true)"
[ -n "$MODULE" ] || MODULE="$(cd "$WORK/proj" && grep -l "^@workflow" benchproj/*.py | sort | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')"
log "editing $MODULE"

run() {
  local name="$1"; shift
  log "running $name"
  python3 "$HERE/lsp_bench.py" --project "$WORK/proj" --module "$MODULE" --name "$name" \
    --edits "$EDITS" --completions "$COMPLETIONS" "$@" > "$WORK/$name.json" \
    || die "$name failed the scenario"
}
run fledge -- "$WORK/fledge" lsp
if [ -z "${SKIP_PYRIGHT:-}" ]; then
  run pyright --python "$FLYTE_PY" -- node "$PYRIGHT_LANGSERVER" --stdio
fi

python3 - "$WORK" "$MODULES" "$EDITS" "$MODULE" "$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "${PYRIGHT_VERSION}" <<'PY' | tee "${OUT:-/dev/null}"
import json, sys, pathlib
work, modules, edits, module, rev, pyright_version = sys.argv[1:]
res = {}
for name in ("fledge", "pyright"):
    p = pathlib.Path(work, name + ".json")
    if p.exists():
        res[name] = json.loads(p.read_text())
f = res["fledge"]
rows = [("workspace ready (spawn -> first diagnostics)", "ready_ms", "ms"),
        ("edit -> diagnostics p50", "edit_p50_ms", "ms"), ("edit -> diagnostics p99", "edit_p99_ms", "ms"),
        ("edit -> diagnostics max", "edit_max_ms", "ms"),
        ("completion p50", "completion_p50_ms", "ms"), ("completion p99", "completion_p99_ms", "ms"),
        ("peak memory (RSS)", "peak_rss_mb", "MB")]
print(f"## fledge lsp vs pyright-langserver ({modules} modules, {edits} edits of {module}; fledge {rev}, pyright {pyright_version})\n")
print("| measure | fledge | pyright | pyright / fledge |")
print("|---|---:|---:|---:|")
for label, key, unit in rows:
    fv = f.get(key)
    pv = res.get("pyright", {}).get(key)
    ratio = f"{pv / fv:.1f}x" if pv and fv else "-"
    print(f"| {label} | {fv} {unit} | {pv if pv is not None else '-'} {unit if pv is not None else ''} | {ratio} |")
print(f"\ncompletion items: fledge {f['completion_items']}, pyright {res.get('pyright', {}).get('completion_items', '-')}\n")
def check(ok, text):
    print(f"- {'PASS' if ok else 'MISS'}: {text}")
check(f["edit_p50_ms"] < 10, f"edit -> diagnostics p50 < 10 ms ({f['edit_p50_ms']} ms)")
check(f["edit_p99_ms"] < 50, f"edit -> diagnostics p99 < 50 ms ({f['edit_p99_ms']} ms)")
check((f["completion_p50_ms"] or 1e9) < 20, f"completion < 20 ms (p50 {f['completion_p50_ms']} ms, p99 {f['completion_p99_ms']} ms)")
check(f["ready_ms"] < 1000, f"workspace ready < 1 s ({f['ready_ms']} ms)")
check(f["peak_rss_mb"] < 300, f"memory < 300 MB ({f['peak_rss_mb']} MB)")
if "pyright" in res:
    r = res["pyright"]["edit_p50_ms"] / f["edit_p50_ms"]
    check(r >= 10, f">= 10x faster than pyright on edit -> diagnostics ({r:.0f}x at p50)")
PY
