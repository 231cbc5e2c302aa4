"""Refuses to report success unless face_recognition really imports.

face_recognition quits the interpreter with status 0 when its model package
cannot be imported (it calls ``quit()``); with setuptools 82+ that happens
because ``pkg_resources`` is gone. A test run would then look green while
testing nothing. This check imports it in a child process and demands a marker
printed *after* the import, so a silent exit cannot pass.
"""

from __future__ import annotations

import subprocess
import sys

MARKER = "photoguard-selfcheck-imported"

_CHILD = f"""
import face_recognition, face_recognition_models, dlib, onnxruntime, pillow_heif
print({MARKER!r})
"""


def check() -> str | None:
    """Return None when every native dependency imports, else the reason."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=300
    )
    if proc.returncode == 0 and MARKER in proc.stdout:
        return None
    output = (proc.stdout + proc.stderr).strip()
    return f"exit status {proc.returncode}; output: {output[-800:] or '(none)'}"


def main() -> int:
    problem = check()
    if problem:
        print(
            "photoguard self-check FAILED: face_recognition/dlib/onnxruntime do not import "
            f"cleanly ({problem}). Is setuptools < 81 in the venv? Run `make clean install`.",
            file=sys.stderr,
        )
        return 1
    print("photoguard self-check: face_recognition, dlib, onnxruntime and pillow-heif import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
