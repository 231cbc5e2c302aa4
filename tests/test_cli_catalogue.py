"""The catalogue command line, run as a school's staff would run it, end to end."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard_core.faces import detect_faces, encode_faces

IDENTITY = Path(__file__).parent / "fixtures" / "identity" / "images"
TWO_PEOPLE = IDENTITY / "fr__examples__two_people.jpg"
PHOTOGUARD = shutil.which("photoguard", path=str(Path(sys.executable).parent))

PEOPLE_CSV = """\
UPN,Forename,Surname,Role,Reg group,date_of_birth,consent_website
S001,Barack,Obama,staff,Staff room;Governors,1961-08-04,granted
S002,Joe,Biden,staff,Staff room,1942-11-20,refused
P100,Ada,Pupil,pupil,Year 4;Chess club,2017-03-02,
P101,,Nameless,pupil,Year 4,2017-01-01,
"""
MAP = [
    "--map",
    "UPN=id",
    "--map",
    "Forename=first_name",
    "--map",
    "Surname=last_name",
    "--map",
    "Role=role",
    "--map",
    "Reg group=groups",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PHOTOGUARD_CATALOGUE": str(tmp_path / "school.sqlite"),
        "PHOTOGUARD_KEY_FILE": str(tmp_path / "secrets" / "master.key"),
        "PHOTOGUARD_ACTOR": "dsl",
    }


def pg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PHOTOGUARD, *args], capture_output=True, text=True, env=env, timeout=600)


def ok(env, *args) -> str:
    result = pg(env, *args)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def visible_people(path: Path) -> int:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return len(encode_faces(rgb, detect_faces(rgb, detector="hog"), min_size=0))


def test_whole_flow(env: dict[str, str], tmp_path: Path):
    out = ok(env, "init")
    key = Path(env["PHOTOGUARD_KEY_FILE"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in out  # the key itself is never printed

    csv = tmp_path / "sis.csv"
    csv.write_text(PEOPLE_CSV)
    dry = pg(env, "people", "import", str(csv), *MAP, "--dry-run", "--json")
    assert dry.returncode == 1  # one bad row
    report = json.loads(dry.stdout)
    assert report["created"] == ["S001", "S002", "P100"] and report["dry_run"]
    assert "line 5, Forename" in dry.stderr
    assert pg(env, "people", "import", str(csv), *MAP).returncode == 1
    again = json.loads(pg(env, "people", "import", str(csv), *MAP, "--json").stdout)
    assert again["created"] == [] and again["consents"] == []  # idempotent

    ok(env, "biometric", "set", "S001", "granted", "--respondent", "self")
    ok(env, "biometric", "set", "S002", "granted", "--respondent", "self")
    refused = pg(env, "enrol", "P100", str(IDENTITY / "fr__examples__obama.jpg"))
    assert refused.returncode == 1 and "biometric" in refused.stderr
    ok(env, "enrol", "S001", str(IDENTITY / "fr__examples__obama.jpg"))
    ok(env, "enrol", "S002", str(IDENTITY / "fr__examples__biden.jpg"))

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(TWO_PEOPLE, photos / "visit.jpg")
    shutil.copy(IDENTITY / "fr__examples__lin-manuel-miranda.png", photos / "visitor.png")
    summary = json.loads(ok(env, "index", str(photos), "--json", "--workers", "1"))
    assert summary["indexed"] == 2 and summary["matched"] == 2
    assert json.loads(ok(env, "index", str(photos), "--json"))["skipped"] == 2  # resumable

    queue = json.loads(ok(env, "review", "--json"))
    assert len(queue) == 1  # the stranger waits for review, unknown

    web = tmp_path / "web"
    rendered = json.loads(
        ok(
            env,
            "render",
            str(photos / "visit.jpg"),
            "--purpose",
            "website",
            "--out",
            str(web),
            "--json",
        )
    )
    assert rendered[0]["outcome"] == "publishable_with_redactions"
    first_copy = Path(rendered[0]["path"])
    assert visible_people(first_copy) == 1
    ok(
        env,
        "usage",
        str(photos / "visit.jpg"),
        "--purpose",
        "website",
        "--location",
        "https://school.example/news/visit",
    )

    found = json.loads(ok(env, "find", "--person", "S001", "--json"))
    assert [Path(p["location"]).name for p in found] == ["visit.jpg"]
    assert json.loads(ok(env, "find", "--group", "Governors", "--json"))
    assert (
        json.loads(ok(env, "find", "--purpose", "website", "--status", "covered", "--json")) == []
    )

    impact = json.loads(ok(env, "affected", "--person", "S001", "--purpose", "website", "--json"))
    assert impact["usages"][0]["location"] == "https://school.example/news/visit"

    change = json.loads(ok(env, "consent", "set", "S001", "website", "withdrawn", "--json"))
    assert len(change["renditions"]) == 1
    assert not first_copy.exists()
    (new_copy,) = web.iterdir()
    assert visible_people(new_copy) == 0

    ok(env, "report", "--out", str(tmp_path / "report"))
    page = (tmp_path / "report" / "report.html").read_text()
    assert "https://school.example/news/visit" in page and "no longer covered" in page

    assert "intact" in ok(env, "audit", "verify")
    shown = json.loads(ok(env, "audit", "show", "--person", "S001", "--json"))
    actions = {e["action"] for e in shown["entries"]}
    assert {"consent_change", "enrol", "biometric_change"} <= actions

    backup = tmp_path / "backups" / "school.bak"
    ok(env, "backup", "--out", str(backup))
    assert b"Obama" not in backup.read_bytes()  # encrypted
    ok(env, "restore", str(backup))
    assert "intact" in ok(env, "audit", "verify")


def test_commands_need_a_catalogue(env: dict[str, str]):
    result = pg(env, "find")
    assert result.returncode == 2 and "photoguard init" in result.stderr
