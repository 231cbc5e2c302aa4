"""The per-file jobs behind the CLI, as plain module-level functions.

They run inside worker processes (see :mod:`photoguard_core.batch`), so each takes
a path plus simple options and returns an :class:`~photoguard_core.batch.Outcome`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from photoguard_core.batch import Outcome
from photoguard_core.errors import PhotoguardError
from photoguard_core.render import Rendition, RenditionPlan, render
from photoguard_core.scan import scan_image


def scan_job(path: Path, *, detector: str, encode: bool, embeddings: bool) -> Outcome:
    result = scan_image(path, detector=detector, encode=encode)
    return Outcome(str(path), True, result.to_dict(encodings=embeddings))


def render_job(path: Path, *, plan: RenditionPlan, out_dir: Path) -> Outcome:
    """Render one file and write it into ``out_dir``; on failure write nothing."""
    try:
        rendition = render(path, plan)
    except PhotoguardError as err:
        manifest = getattr(err, "manifest", None)
        payload = {"manifest": manifest.to_dict()} if manifest is not None else {}
        return Outcome(str(path), False, payload, error=err.reason)
    target = write_rendition(rendition, out_dir)
    return Outcome(
        str(path),
        True,
        {
            "output": str(target),
            "faces_redacted": rendition.manifest.redacted_count,
            "manifest": rendition.manifest.to_dict(),
        },
    )


def write_rendition(rendition: Rendition, out_dir: Path) -> Path:
    """Write atomically under a content-hash name: a reader never sees half a file,
    and an interrupted run leaves no partial rendition behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / rendition.name
    if target.exists() and target.stat().st_size == len(rendition.data):
        return target
    fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(rendition.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
