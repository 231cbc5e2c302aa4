"""Crash safety: an index run killed with SIGKILL mid-way leaves a sound catalogue,
every photo it finished complete, and the next run carries on where it stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

DETECTION = Path(__file__).parent / "fixtures" / "detection" / "images"
PHOTOGUARD = shutil.which("photoguard", path=str(Path(sys.executable).parent))


def _indexed(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_killed_index_run_resumes(tmp_path: Path):
    env = {
        **os.environ,
        "PHOTOGUARD_CATALOGUE": str(tmp_path / "school.sqlite"),
        "PHOTOGUARD_KEY_FILE": str(tmp_path / "keys" / "master.key"),
    }
    photos = tmp_path / "photos"
    shutil.copytree(DETECTION, photos)
    total = len(list(photos.iterdir()))
    subprocess.run([PHOTOGUARD, "init"], env=env, check=True, capture_output=True)

    run = subprocess.Popen(
        [PHOTOGUARD, "index", str(photos), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = tmp_path / "school.sqlite"
    deadline = time.monotonic() + 300
    while _indexed(db) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    done = _indexed(db)
    assert 2 <= done < total, "the run should have been killed part-way"

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every photo on record is complete: its faces are all there.
    for (photo_id,) in conn.execute("SELECT id FROM photos").fetchall():
        details = conn.execute(
            "SELECT details FROM audit_log WHERE action = 'index' AND object_id = ?",
            (str(photo_id),),
        ).fetchone()
        faces = conn.execute("SELECT COUNT(*) FROM faces WHERE photo_id = ?", (photo_id,))
        assert json.loads(details[0])["faces"] == faces.fetchone()[0]
    conn.close()

    again = subprocess.run(
        [PHOTOGUARD, "index", str(photos), "--json", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(again.stdout)
    assert summary["skipped"] == done and summary["indexed"] == total - done
    verify = subprocess.run([PHOTOGUARD, "audit", "verify"], env=env, capture_output=True)
    assert verify.returncode == 0
