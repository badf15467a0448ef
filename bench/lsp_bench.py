"""Language-server latency benchmark: one scenario, driven over stdio, against any server.

    python3 bench/lsp_bench.py --project DIR --module benchproj/x.py --name fledge -- fledge lsp
    python3 bench/lsp_bench.py ... --name pyright --python PY -- node .../pyright-langserver --stdio

Scenario (the same for every server), on the project DIR:
  1. ready:      spawn the server, initialize, open MODULE; the time from spawn to the first
                 publishDiagnostics of MODULE (the server has loaded the workspace and analyzed it).
  2. edits:      EDITS one-line edits of MODULE (the same line, inside a workflow body, rewritten
                 each time); for each, the time from sending didChange to the publishDiagnostics
                 of MODULE for that document version. One edit at a time (the next one is sent
                 when the previous one's diagnostics arrived), like a person typing.
  3. completion: COMPLETIONS completion requests inside a task call of the workflow (keyword
                 arguments); the time to the response, which must list items.
  4. memory:     the server's peak resident memory (VmHWM of the process and its children).

Prints one JSON object (figures in milliseconds and MB) on stdout. Exits 1 when the server fails
the scenario (dies, times out, returns no completion items).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 60.0


class Server:
    def __init__(self, cmd: list[str], cwd: Path, python: str | None):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.python = python
        self.next_id = 0
        self.inbox: "queue.Queue[tuple[float, dict]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put((time.perf_counter(), {"eof": True}))
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.decode().partition(":")
                headers[k.lower()] = v.strip()
            body = out.read(int(headers["content-length"]))
            self.inbox.put((time.perf_counter(), json.loads(body)))

    def send(self, msg: dict) -> float:
        msg["jsonrpc"] = "2.0"
        data = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.proc.stdin.flush()
        return time.perf_counter()

    def request(self, method: str, params) -> tuple[float, int]:
        self.next_id += 1
        t = self.send({"id": self.next_id, "method": method, "params": params})
        return t, self.next_id

    def notify(self, method: str, params) -> float:
        return self.send({"method": method, "params": params})

    def wait(self, pred) -> tuple[float, dict]:
        """Handle server requests and return the first message `pred` accepts, with its arrival time."""
        deadline = time.perf_counter() + TIMEOUT
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no answer within %.0f s" % TIMEOUT)
            try:
                at, msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg.get("eof"):
                raise RuntimeError("the server exited (code %s)" % self.proc.poll())
            if "method" in msg and "id" in msg:
                self._answer(msg)
                continue
            if pred(msg):
                return at, msg

    def _answer(self, req: dict) -> None:
        result = None
        if req["method"] == "workspace/configuration":
            result = []
            for item in req["params"]["items"]:
                section = item.get("section")
                if section == "python" and self.python:
                    result.append({"pythonPath": self.python})
                elif section == "python.analysis":
                    result.append({"diagnosticMode": "openFilesOnly", "typeCheckingMode": "standard"})
                else:
                    result.append({})
        self.send({"id": req["id"], "result": result})

    def peak_rss_mb(self) -> float:
        """VmHWM of the server and its descendants, summed."""
        total = 0
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"VmHWM:\s+(\d+) kB", status)
            if m:
                total += int(m.group(1))
        return total / 1024


def descendants(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int(Path(p, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(p.name))
            out.extend(descendants(int(p.name)))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", type=Path, required=True)
    ap.add_argument("--module", required=True, help="file to open and edit, relative to the project")
    ap.add_argument("--name", required=True)
    ap.add_argument("--python", help="interpreter to tell the server about (pyright)")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--completions", type=int, default=50)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    root = a.project.resolve()
    path = root / a.module
    uri = path.as_uri()
    text = path.read_text()
    lines = text.split("\n")
    # The line to rewrite: the first statement of the first workflow body; a task call there.
    wf = next(i for i, l in enumerate(lines) if l.startswith("@workflow"))
    body = next(i for i in range(wf, len(lines)) if lines[i].startswith("    ") and "=" in lines[i])
    call = re.search(r"= ([\w.]+)\(", lines[body])
    indent = "    "

    s = Server(cmd, root, a.python)
    s.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {
                "textDocument": {
                    "publishDiagnostics": {"versionSupport": True},
                    "completion": {"completionItem": {"snippetSupport": False}},
                    "synchronization": {"didSave": True},
                },
                "workspace": {"configuration": True, "workspaceFolders": True},
            },
        },
    )
    s.wait(lambda m: m.get("id") == 1)
    s.notify("initialized", {})
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})

    def diagnostics_of(version):
        def pred(m):
            if m.get("method") != "textDocument/publishDiagnostics" or m["params"]["uri"] != uri:
                return False
            v = m["params"].get("version")
            return version is None or v is None or v >= version

        return pred

    at, _ = s.wait(diagnostics_of(None))
    ready_ms = (at - s.started) * 1000

    # Edits: insert a line once, then rewrite it in place (one-line edits).
    edit_ms = []
    version = 1
    inserted = False
    for i in range(a.edits + 1):
        version += 1
        new_line = f"{indent}probe_{i % 7} = {i}"
        if not inserted:
            change = {"range": {"start": {"line": body, "character": 0}, "end": {"line": body, "character": 0}},
                      "text": new_line + "\n"}
            inserted = True
        else:
            old_len = len(f"{indent}probe_{(i - 1) % 7} = {i - 1}")
            change = {"range": {"start": {"line": body, "character": 0}, "end": {"line": body, "character": old_len}},
                      "text": new_line}
        sent = s.notify("textDocument/didChange",
                        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        at, _ = s.wait(diagnostics_of(version))
        if i > 0:  # the first edit (the insertion) warms up
            edit_ms.append((at - sent) * 1000)

    # Completion: the probe line becomes a call of the workflow's first task with empty
    # parentheses, and completion is asked between them (the task's keyword arguments).
    completion_ms = []
    items_seen = 0
    if call:
        version += 1
        old_len = len(f"{indent}probe_{a.edits % 7} = {a.edits}")
        probe_call = f"{indent}probe = {call.group(1)}()"
        change = {"range": {"start": {"line": body, "character": 0}, "end": {"line": body, "character": old_len}},
                  "text": probe_call}
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        s.wait(diagnostics_of(version))
        col = len(probe_call) - 1
        for _ in range(a.completions):
            sent, rid = s.request("textDocument/completion",
                                  {"textDocument": {"uri": uri}, "position": {"line": body, "character": col}})
            at, resp = s.wait(lambda m, rid=rid: m.get("id") == rid)
            completion_ms.append((at - sent) * 1000)
            res = resp.get("result") or []
            items_seen = len(res["items"] if isinstance(res, dict) else res)
    rss = s.peak_rss_mb()
    s.request("shutdown", None)
    s.notify("exit", None)
    try:
        s.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        s.proc.kill()
    result = {
        "server": a.name,
        "ready_ms": round(ready_ms, 1),
        "edits": len(edit_ms),
        "edit_p50_ms": round(statistics.median(edit_ms), 2),
        "edit_p99_ms": round(pct(edit_ms, 99), 2),
        "edit_max_ms": round(max(edit_ms), 2),
        "completion_p50_ms": round(statistics.median(completion_ms), 2) if completion_ms else None,
        "completion_p99_ms": round(pct(completion_ms, 99), 2) if completion_ms else None,
        "completion_items": items_seen,
        "peak_rss_mb": round(rss, 1),
    }
    print(json.dumps(result))
    if call and items_seen == 0:
        print(f"{a.name}: completion returned no items", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (TimeoutError, RuntimeError) as e:
        print(f"lsp_bench: {e}", file=sys.stderr)
        sys.exit(1)
