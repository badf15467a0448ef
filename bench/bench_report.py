#!/usr/bin/env python3
"""Report helpers for bench/check-bench.sh (plain python3, no dependencies).

    bench_report.py table   TIMES_TSV RSS_TSV         timing table + target checks
    bench_report.py quality EXPECTED_JSON FLEDGE_JSON planted-error recall / false positives
    bench_report.py clean   SIZE FLEDGE_JSON          diagnostics on a clean project (all are FPs)

TIMES_TSV lines: size, tool, seconds, exit status.  RSS_TSV lines: size, peak KiB, and
optionally fledge's user+sys CPU seconds in that run.
Every subcommand prints markdown to stdout and exits 0 (it is a bench, not a test);
`quality` and `clean` exit 3 when fledge's JSON cannot be read (fledge crashed).

Targets (checked by `table`):
  * fledge check on the 500-module project: median < 0.5 s
  * fledge >= 50x faster than flytekit import+compile (median ratio, every size)
  * fledge >= 20x faster than pyright (median ratio, every size; skipped with SKIP_PYRIGHT)
  * fledge peak RSS < 200 MB (every size)

Matching rule (`quality`): a planted error is found when fledge reports a diagnostic with
the expected code in the same file on a line within [line_start, line_end]. Each
diagnostic can account for one planted error only; every diagnostic not used that way is
a false positive (in a clean module, in common.py/types.py, or an extra one in a module
with planted errors).
"""
from __future__ import annotations

import collections
import json
import statistics
import sys

TARGET_500_S = 0.5
TARGET_FLYTEKIT_X = 50.0
TARGET_PYRIGHT_X = 20.0
TARGET_RSS_MB = 200.0

TOOL_ORDER = ["fledge", "flytekit", "pyright"]
TOOL_LABEL = {"fledge": "fledge check", "flytekit": "flytekit import+compile", "pyright": "pyright"}


def load_diagnostics(path: str):
    try:
        with open(path) as fh:
            data = json.load(fh)
        diags = data["diagnostics"]
        for d in diags:  # absolute paths (if any) -> relative to the project folder
            p = str(d.get("path", ""))
            if p.startswith("/") and "/benchproj/" in p:
                d["path"] = "benchproj/" + p.rsplit("/benchproj/", 1)[1]
        return diags
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"**cannot read fledge JSON output {path}: {e}**")
        sys.exit(3)


def fmt_diag(d) -> str:
    return (f"`{d.get('path')}:{d.get('line')}:{d.get('column')}` {d.get('severity')} "
            f"**{d.get('code')}**: {d.get('message')}")


# ----------------------------------------------------------------------------- timing table

def cmd_table(times_path: str, rss_path: str) -> int:
    rows = collections.defaultdict(list)
    status = collections.defaultdict(set)
    with open(times_path) as fh:
        for line in fh:
            if not line.strip():
                continue
            size, tool, secs, rc = line.rstrip("\n").split("\t")
            rows[(int(size), tool)].append(float(secs))
            status[(int(size), tool)].add(int(rc))
    rss = collections.defaultdict(list)
    cpu = collections.defaultdict(list)
    try:
        with open(rss_path) as fh:
            for line in fh:
                if line.strip():
                    f = line.rstrip("\n").split("\t")
                    rss[int(f[0])].append(int(f[1]))
                    if len(f) > 2 and f[2]:
                        cpu[int(f[0])].append(float(f[2]))
    except OSError:
        pass

    sizes = sorted({s for s, _ in rows})
    out = ["| modules | tool | runs | min s | median s | peer/fledge (median) | peer/fledge (min) "
           "| fledge peak MB | fledge CPU s (median) | exit |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    ratios = {}  # (size, tool) -> (median ratio, min ratio)
    for size in sizes:
        fl = rows.get((size, "fledge"))
        for tool in TOOL_ORDER:
            v = rows.get((size, tool))
            if not v:
                continue
            r_med = r_min = ""
            peak = cpu_s = ""
            if tool == "fledge":
                if rss.get(size):
                    peak = f"{max(rss[size]) / 1024:.1f}"
                if cpu.get(size):
                    cpu_s = f"{statistics.median(cpu[size]):.2f}"
            elif fl:
                rm = statistics.median(v) / statistics.median(fl)
                rn = min(v) / min(fl)
                ratios[(size, tool)] = (rm, rn)
                r_med, r_min = f"{rm:.1f}x", f"{rn:.1f}x"
            exits = ",".join(str(x) for x in sorted(status[(size, tool)]))
            out.append(f"| {size} | {TOOL_LABEL[tool]} | {len(v)} | {min(v):.3f} | "
                       f"{statistics.median(v):.3f} | {r_med} | {r_min} | {peak} | {cpu_s} | {exits} |")
    print("\n".join(out))
    print()
    if cpu:
        print("fledge CPU s = user+sys of fledge in the untimed peak-RSS runs (all threads; less "
              "sensitive to other load on the machine than wall time).")
        print()

    # ---- targets
    print("Targets (PASS/MISS on the median; min in parentheses):")
    print()

    def line(ok: bool, text: str):
        print(f"- {'PASS' if ok else 'MISS'}: {text}")

    fl500 = rows.get((500, "fledge"))
    if fl500:
        med = statistics.median(fl500)
        line(med < TARGET_500_S, f"fledge check, 500 modules < {TARGET_500_S} s: "
                                 f"median {med:.3f} s (min {min(fl500):.3f} s)")
    else:
        print("- n/a: fledge check, 500 modules < 0.5 s (no 500-module project in SIZES)")
    for tool, target in (("flytekit", TARGET_FLYTEKIT_X), ("pyright", TARGET_PYRIGHT_X)):
        have = [s for s in sizes if (s, tool) in ratios]
        if not have:
            print(f"- n/a: >= {target:.0f}x faster than {TOOL_LABEL[tool]} (not measured)")
            continue
        for s in have:
            rm, rn = ratios[(s, tool)]
            line(rm >= target, f">= {target:.0f}x faster than {TOOL_LABEL[tool]}, {s} modules: "
                               f"{rm:.1f}x (min {rn:.1f}x)")
    if rss:
        for s in sizes:
            if rss.get(s):
                mb = max(rss[s]) / 1024
                line(mb < TARGET_RSS_MB, f"fledge peak RSS < {TARGET_RSS_MB:.0f} MB, {s} modules: "
                                         f"{mb:.1f} MB (max of {len(rss[s])} runs)")
    else:
        print("- n/a: fledge peak RSS (not measured)")
    crashed = [(s, t) for (s, t), st in status.items()
               if (t == "fledge" and any(x not in (0, 1) for x in st))]
    if crashed:
        print()
        print(f"**fledge exited with an unexpected status on: {crashed}**")
    return 0


# ----------------------------------------------------------------------------- quality

def match(expected: dict, diags: list):
    """Return (results, false_positives); results: list of (path, error, diag or None)."""
    unused = list(range(len(diags)))
    results = []
    for path in sorted(expected):
        for err in expected[path]["errors"]:
            hit = None
            for i in unused:
                d = diags[i]
                if (d.get("path") == path and d.get("code") == err["code"]
                        and err["line_start"] <= d.get("line", -1) <= err["line_end"]):
                    hit = i
                    break
            if hit is not None:
                unused.remove(hit)
            results.append((path, err, diags[hit] if hit is not None else None))
    fps = [diags[i] for i in unused]
    return results, fps


def cmd_quality(expected_path: str, fledge_json: str) -> int:
    with open(expected_path) as fh:
        expected = json.load(fh)
    diags = load_diagnostics(fledge_json)
    results, fps = match(expected, diags)
    by_kind = collections.OrderedDict()
    for _, err, d in results:
        k = f"{err['kind']} ({err['code']})"
        found, total = by_kind.get(k, (0, 0))
        by_kind[k] = (found + (d is not None), total + 1)
    n_found = sum(1 for *_, d in results if d is not None)
    clean_modules = {p for p, v in expected.items() if v["clean"]}
    planted_modules = {p for p, v in expected.items() if not v["clean"]}
    fp_clean = [d for d in fps if d.get("path") in clean_modules]
    fp_planted = [d for d in fps if d.get("path") in planted_modules]
    fp_other = [d for d in fps if d.get("path") not in expected]

    print("| kind (code) | found | planted | recall |")
    print("|---|---:|---:|---:|")
    for k, (f, t) in by_kind.items():
        print(f"| {k} | {f} | {t} | {100.0 * f / t:.0f}% |")
    total = len(results)
    print(f"| **all** | {n_found} | {total} | {100.0 * n_found / total if total else 100:.0f}% |")
    print()
    print(f"- fledge diagnostics: {len(diags)}; matched to planted errors: {n_found}")
    print(f"- false positives: {len(fps)} (in clean modules: {len(fp_clean)}, extra in planted "
          f"modules: {len(fp_planted)}, in other files: {len(fp_other)})")
    misses = [(p, e) for p, e, d in results if d is None]
    if misses:
        print()
        print(f"Missed planted errors ({len(misses)}):")
        for p, e in misses:
            near = [d for d in diags if d.get("path") == p
                    and e["line_start"] - 2 <= d.get("line", -1) <= e["line_end"] + 2]
            extra = ("; fledge nearby: " + " | ".join(f"{d['code']} line {d['line']}" for d in near)
                     if near else "; fledge reports nothing within 2 lines")
            print(f"- MISS `{p}:{e['line_start']}:{e['column']}` expected **{e['code']}** "
                  f"({e['kind']}): {e['message']}{extra}")
    if fps:
        print()
        print(f"False positives ({len(fps)}):")
        for d in fps:
            print(f"- FP {fmt_diag(d)}")
    print()
    print(f"QUALITY planted: recall {n_found}/{total}, false positives {len(fps)}")
    return 0


def cmd_clean(size: str, fledge_json: str) -> int:
    diags = load_diagnostics(fledge_json)
    print(f"- clean {size}-module project: {len(diags)} diagnostics"
          + (" (all false positives)" if diags else ""))
    for d in diags:
        print(f"  - FP {fmt_diag(d)}")
    return 0


def main(argv) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "table" and len(args) == 2:
        return cmd_table(*args)
    if cmd == "quality" and len(args) == 2:
        return cmd_quality(*args)
    if cmd == "clean" and len(args) == 2:
        return cmd_clean(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
