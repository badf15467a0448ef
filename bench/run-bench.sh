#!/usr/bin/env bash
# fledge run / fledge watch against pyflyte run, on generated projects (see issue #5):
#  (a) a 5-task chain whose 4 upstream tasks sleep 2 s: `fledge run` cold vs `pyflyte run`;
#  (b) the last task edited: `fledge watch` reaction time (save -> run_finished) vs `pyflyte run`;
#  (c) per-task overhead on a 50-task workflow of trivial tasks vs `pyflyte run`.
# Prints the measured figures and ratios from one run. Needs the flytekit venv (scripts/setup-python.sh)
# or FLEDGE_TEST_PYTHON, and a built fledge (FLEDGE_BIN, else target/release, else target/debug).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
py="${FLEDGE_TEST_PYTHON:-$HOME/.cache/fledge-dev/venv-flytekit-1.16.31/bin/python}"
[ -x "$py" ] || { echo "no Python with flytekit: set FLEDGE_TEST_PYTHON or run scripts/setup-python.sh" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-$here/target}"
fledge="${FLEDGE_BIN:-}"
if [ -z "$fledge" ]; then
  if [ -x "$target/release/fledge" ]; then fledge="$target/release/fledge"; else fledge="$target/debug/fledge"; fi
fi
[ -x "$fledge" ] || { echo "no fledge binary (cargo build -p fledge-cli)" >&2; exit 2; }
echo "fledge: $fledge"
echo "python: $py"
exec python3 - "$fledge" "$py" <<'PY'
import json, os, subprocess, sys, tempfile, textwrap, time

fledge, py = sys.argv[1], sys.argv[2]
PYFLYTE = [py, "-c", "import sys; from flytekit.clis.sdk_in_container.pyflyte import main; sys.argv[0]='pyflyte'; main()", "run"]

def project(body):
    d = tempfile.mkdtemp(prefix="fledge-run-bench-")
    os.makedirs(os.path.join(d, "bench"))
    open(os.path.join(d, "bench", "__init__.py"), "w").close()
    open(os.path.join(d, "bench", "flow.py"), "w").write(body)
    open(os.path.join(d, "pyproject.toml"), "w").write(f'[project]\nname = "bench"\nversion = "0"\n\n[tool.fledge]\npython = "{py}"\n')
    return d

def timed(cmd, cwd):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return dt, r.stdout

CHAIN = textwrap.dedent('''
    import time
    from flytekit import task, workflow

    @task
    def t1(x: int) -> int:
        time.sleep(2)
        return x + 1

    @task
    def t2(x: int) -> int:
        time.sleep(2)
        return x + 1

    @task
    def t3(x: int) -> int:
        time.sleep(2)
        return x + 1

    @task
    def t4(x: int) -> int:
        time.sleep(2)
        return x + 1

    @task
    def last(x: int) -> str:
        return f"result {x}"

    @workflow
    def chain(x: int = 0) -> str:
        return last(x=t4(x=t3(x=t2(x=t1(x=x)))))
''')

d = project(CHAIN)
fl_cold, _ = timed([fledge, "run", "--no-cache", "bench/flow.py", "chain"], d)
pf, _ = timed(PYFLYTE + ["bench/flow.py", "chain"], d)
print(f"(a) 5-task chain, cold: fledge run {fl_cold:.2f} s, pyflyte run {pf:.2f} s, ratio pyflyte/fledge {pf / fl_cold:.2f}x")

# (b) watch: run once, then edit the last task and time save -> run_finished.
out_path = os.path.join(d, "watch.jsonl")
out = open(out_path, "w")
w = subprocess.Popen([fledge, "watch", "bench/flow.py", "chain", "--format", "jsonl"], cwd=d, stdout=out, stderr=subprocess.DEVNULL)
def finished_runs():
    try:
        return [json.loads(l) for l in open(out_path) if '"run_finished"' in l]
    except ValueError:
        return []
deadline = time.time() + 120
while len(finished_runs()) < 1 and time.time() < deadline:
    time.sleep(0.01)
reactions = []
for i in range(3):
    time.sleep(0.5)
    src = os.path.join(d, "bench", "flow.py")
    text = open(src).read()
    new = text.replace(f'f"result', f'f"result{i}', 1) if i == 0 else text.replace(f'f"result{i-1}', f'f"result{i}', 1)
    before = len(finished_runs())
    t = time.perf_counter()
    open(src, "w").write(new)
    while len(finished_runs()) <= before and time.time() < deadline:
        time.sleep(0.002)
    reactions.append(time.perf_counter() - t)
    last = finished_runs()[-1]
    assert last["status"] == "succeeded", last
w.terminate()
w.wait()
ran = [json.loads(l) for l in open(out_path) if '"node_finished"' in l][-5:]
react = sorted(reactions)[len(reactions) // 2]
pf2, _ = timed(PYFLYTE + ["bench/flow.py", "chain"], d)
print(f"(b) edit the last task: fledge watch reaction {react * 1000:.0f} ms (median of {len(reactions)}; statuses {[r['status'] for r in ran]}), "
      f"pyflyte run {pf2:.2f} s, ratio {pf2 / react:.1f}x (target >= 20x and < 300 ms)")

# (c) per-task overhead: 50 trivial tasks vs 1, no cache.
def trivial(n):
    tasks = "".join(f"\n@task\ndef t{i}(x: int) -> int:\n    return x + 1\n" for i in range(n))
    chain = "x"
    for i in range(n):
        chain = f"t{i}(x={chain})"
    return "from flytekit import task, workflow\n" + tasks + f"\n@workflow\ndef wf(x: int = 0) -> int:\n    return {chain}\n"
d1, d50 = project(trivial(1)), project(trivial(50))
f1, _ = timed([fledge, "run", "--no-cache", "bench/flow.py", "wf"], d1)
f50, _ = timed([fledge, "run", "--no-cache", "bench/flow.py", "wf"], d50)
p1, _ = timed(PYFLYTE + ["bench/flow.py", "wf"], d1)
p50, _ = timed(PYFLYTE + ["bench/flow.py", "wf"], d50)
fo, po = (f50 - f1) / 49, (p50 - p1) / 49
print(f"(c) per-task overhead (50 vs 1 trivial tasks, no cache): fledge {fo * 1000:.1f} ms/task ({f50:.2f} s total), "
      f"pyflyte {po * 1000:.1f} ms/task ({p50:.2f} s total) (target < 50 ms)")
PY
