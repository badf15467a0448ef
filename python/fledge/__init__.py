"""fledge: fast static checks for Flyte workflow code.

This package only locates the ``fledge`` binary that the ``flyte-fledge`` wheel installs into
the environment's scripts folder; ``python -m fledge ARGS`` runs it. All the work happens in
the binary (``fledge check``, ``fledge graph``, ``fledge lsp``, ...).
"""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["find_fledge_bin"]


def find_fledge_bin() -> str:
    """Return the path of the ``fledge`` binary installed with this package.

    Looks in the scripts folder of this environment, then in the user scheme's scripts folder
    (``pip install --user``). Raises ``FileNotFoundError`` when neither holds it.
    """
    exe = "fledge" + (sysconfig.get_config_var("EXE") or "")
    candidates = [os.path.join(sysconfig.get_path("scripts"), exe)]
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    elif sys.platform == "darwin" and getattr(sys, "_framework", None):
        user_scheme = "osx_framework_user"
    else:
        user_scheme = "posix_user"
    candidates.append(os.path.join(sysconfig.get_path("scripts", scheme=user_scheme), exe))
    # A target-dir install (`pip install --target DIR`) puts the binary in DIR/bin.
    candidates.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin", exe))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "the fledge binary was not found (looked in: " + ", ".join(candidates) + "); "
        "reinstall with `pip install --force-reinstall flyte-fledge`"
    )
