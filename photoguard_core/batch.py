"""Running one job over many files: collect, fan out across cores, report.

dlib and onnxruntime each run a photo on one core, so the CLI uses one worker
process per core rather than threads. Each worker returns a small JSON-safe
:class:`Outcome`; a failure in one file never stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from photoguard_core.images import FORMATS

#: Extensions picked up when a folder is given; a file named explicitly is always tried.
IMAGE_EXTENSIONS = frozenset(ext for fmt in FORMATS for ext in fmt.extensions)


@dataclass
class Outcome:
    """The result of one file: ``ok`` with a payload, or a failure with its reason."""

    source: str
    ok: bool
    payload: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def collect(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Files to process (sorted, de-duplicated) and the given paths that do not exist."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in IMAGE_EXTENSIONS:
                    found.setdefault(str(child.resolve()), child)
        elif path.is_file():
            found.setdefault(str(path.resolve()), path)
        else:
            missing.append(str(raw))
    return sorted(found.values()), missing


def run(
    job: Callable[..., Outcome],
    files: list[Path],
    *,
    workers: int | None = None,
    label: str = "photos",
    **options: Any,
) -> Iterator[Outcome]:
    """Yield ``job(path, **options)`` for every file, in completion order, with a progress bar.

    ``job`` must be a module-level function (it is pickled to worker processes).
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    bar = tqdm(total=len(files), unit=" " + label, desc=label, leave=True, dynamic_ncols=True)
    try:
        if workers == 1:
            for path in files:
                yield _guarded(job, path, options)
                bar.update()
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_guarded, job, path, options): path for path in files}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as err:  # a worker died (out of memory, killed)
                    outcome = Outcome(str(futures[future]), False, error=f"worker failed: {err}")
                yield outcome
                bar.update()
    finally:
        bar.close()


def _guarded(job: Callable[..., Outcome], path: Path, options: dict[str, Any]) -> Outcome:
    """Run ``job``; turn any exception into a failed :class:`Outcome` naming the file."""
    from photoguard_core.errors import PhotoguardError

    try:
        return job(path, **options)
    except PhotoguardError as err:
        return Outcome(str(path), False, error=err.reason)
    except Exception as err:  # fail closed: a bug is a failed file, not a crash
        return Outcome(str(path), False, error=f"internal error: {type(err).__name__}: {err}")
