"""The installed ``photoguard`` command, run the way a user runs it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard_core.faces import detect_faces
from photoguard_core.metadata import read_metadata

FIXTURES = Path(__file__).parent / "fixtures"
TWO_PEOPLE = FIXTURES / "identity" / "images" / "fr__examples__two_people.jpg"
GPS_PHOTO = FIXTURES / "exif" / "mei__jpg__Apple_iPhone_4.jpg"
HEIC = FIXTURES / "exif" / "mei__heic__IMG_1034.heic"
ROTATED = FIXTURES / "exif" / "pillow__Tests__images__hopper_orientation_6.jpg"

PHOTOGUARD = shutil.which("photoguard", path=str(Path(sys.executable).parent))


def photoguard(*args: str) -> subprocess.CompletedProcess:
    assert PHOTOGUARD, "the photoguard console script is not installed in this environment"
    return subprocess.run([PHOTOGUARD, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A staff folder: photos with faces and GPS, one truncated file, one non-image."""
    src = tmp_path / "Year 4 trip"
    src.mkdir()
    shutil.copy(TWO_PEOPLE, src / "jane-smith-year4.jpg")
    shutil.copy(GPS_PHOTO, src / "bus.jpg")
    shutil.copy(HEIC, src / "office.heic")
    shutil.copy(ROTATED, src / "rotated.jpg")
    data = TWO_PEOPLE.read_bytes()
    (src / "broken.jpg").write_bytes(data[: len(data) // 2])
    (src / "notes.txt").write_text("not a photo")  # ignored: not an image extension
    return src


def test_redact_folder_in_parallel(folder: Path, tmp_path: Path):
    out = tmp_path / "safe"
    manifest = tmp_path / "manifest.jsonl"
    result = photoguard(
        "redact",
        str(folder),
        "--out",
        str(out),
        "--max-size",
        "1024",
        "--workers",
        "2",
        "--manifest",
        str(manifest),
    )
    assert result.returncode == 1, result.stderr  # one file failed
    assert "FAILED" in result.stderr and "broken.jpg" in result.stderr
    assert "4 of 5 files done" in result.stderr

    written = sorted(out.iterdir())
    assert len(written) == 4
    for path in written:
        assert "jane" not in path.name and "bus" not in path.name
        data = path.read_bytes()
        assert read_metadata(data).items() == []
        image = Image.open(io.BytesIO(data))
        assert max(image.size) <= 1024
        assert detect_faces(np.asarray(image.convert("RGB"))) == []

    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    by_name = {Path(r["source"]).name: r for r in records}
    assert by_name["jane-smith-year4.jpg"]["manifest"]["faces_redacted"] == 2
    assert not by_name["broken.jpg"]["ok"]
    assert any("GPS" in item for item in by_name["bus.jpg"]["manifest"]["metadata_removed"])


def test_strip_keeps_faces_but_removes_metadata(tmp_path: Path):
    out = tmp_path / "stripped"
    result = photoguard("strip", str(GPS_PHOTO), str(ROTATED), "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = sorted(out.iterdir())
    assert len(written) == 2
    sizes = set()
    for path in written:
        assert read_metadata(path.read_bytes()).items() == []
        sizes.add(Image.open(path).size)
    stored = Image.open(ROTATED).size
    assert (stored[1], stored[0]) in sizes  # rotated upright


def test_scan_json_and_table():
    result = photoguard("scan", "--json", str(TWO_PEOPLE), str(GPS_PHOTO), "--workers", "1")
    assert result.returncode == 0, result.stderr
    items = {Path(i["source"]).name: i for i in json.loads(result.stdout)}
    assert len(items[TWO_PEOPLE.name]["faces"]) == 2
    assert items[GPS_PHOTO.name]["faces"] == []

    table = photoguard("scan", str(TWO_PEOPLE), "--encode")
    assert table.returncode == 0
    assert "2 faces, 2 encoded" in table.stdout


def test_inspect_shows_what_would_leak():
    result = photoguard("inspect", str(GPS_PHOTO))
    assert result.returncode == 0, result.stderr
    assert "GPS" in result.stdout
    assert "faces: 0" in result.stdout

    data = json.loads(photoguard("inspect", "--json", str(TWO_PEOPLE)).stdout)
    assert len(data["scan"]["faces"]) == 2


def test_missing_path_and_empty_folder(tmp_path: Path):
    assert photoguard("scan", str(tmp_path / "nope")).returncode == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = photoguard("redact", str(empty), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "no image files" in result.stderr


def test_bad_option_is_a_usage_error(tmp_path: Path):
    result = photoguard("redact", str(TWO_PEOPLE), "--out", str(tmp_path), "--grow", "0.1")
    assert result.returncode == 2
