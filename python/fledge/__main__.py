"""``python -m fledge ARGS``: run the ``fledge`` binary that came with this package."""

from __future__ import annotations

import os
import sys

from fledge import find_fledge_bin


def main() -> int:
    try:
        fledge = os.fsdecode(find_fledge_bin())
    except FileNotFoundError as e:
        print(f"fledge: {e}", file=sys.stderr)
        return 2
    if sys.platform == "win32":
        import subprocess

        return subprocess.run([fledge, *sys.argv[1:]]).returncode
    # Replace this process, so signals, exit codes and stdio (the LSP's stdin/stdout) are the binary's.
    os.execv(fledge, [fledge, *sys.argv[1:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
