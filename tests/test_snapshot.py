"""The bundled snapshot is rebuilt from ../shared/fiw byte for byte, with its conflicts recorded."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl

from sovereign import paths
from tests.conftest import FIW

ROOT = Path(__file__).resolve().parents[1]


def test_rebuild_is_byte_identical(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_snapshot.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in (paths.SCORES.name, paths.CONFLICTS.name, paths.MANIFEST.name):
        assert (tmp_path / name).read_bytes() == (paths.DATA / name).read_bytes(), name


def test_manifest_names_sources_and_editions():
    manifest = json.loads(paths.MANIFEST.read_text())
    files = {f["file"]: f["sha256"] for f in manifest["files"]}
    assert len(files) == 5
    for name, sha in files.items():
        assert hashlib.sha256((FIW / name).read_bytes()).hexdigest() == sha, name
    assert manifest["editions"][0] == 1973 and manifest["editions"][-1] == 2026
    assert 2002 not in manifest["editions"] and len(manifest["editions"]) == 53
    assert "Freedom House" in manifest["attribution"]


def test_conflicts_between_fh_files_are_recorded_not_hidden():
    conflicts = pl.read_csv(paths.CONFLICTS)
    kosovo = conflicts.filter((pl.col("fh_name") == "Kosovo") & (pl.col("field") == "status_pub"))
    assert sorted(kosovo["edition"]) == [2006, 2007]
    assert all("NF" in v and "PF" in v for v in kosovo["values"])
    donbas = conflicts.filter((pl.col("fh_name") == "Eastern Donbas") & (pl.col("edition") == 2024))
    assert set(donbas["field"]) == {"G", "cl", "total"}
    assert "All_data_FIW_2013-2025.xlsx: 3" in donbas.filter(pl.col("field") == "cl")["values"][0]
    sudan = conflicts.filter(pl.col("fh_name") == "Sudan")
    assert sudan.height == 1 and sudan["edition"][0] == 2026


def test_snapshot_carries_the_revised_eastern_donbas_and_2026_ratings():
    frame = pl.read_csv(paths.SCORES, infer_schema_length=0)
    donbas = frame.filter((pl.col("fh_name") == "Eastern Donbas") & (pl.col("edition") == "2024")).row(0, named=True)
    assert (donbas["G3"], donbas["cl"], donbas["total"]) == ("1", "3", "2")
    turkey = frame.filter((pl.col("fh_name") == "Turkey") & (pl.col("edition") == "2026")).row(0, named=True)
    assert (turkey["pr_rating_pub"], turkey["cl_rating_pub"], turkey["status_pub"]) == ("5", "6", "NF")
    sudan = frame.filter((pl.col("fh_name") == "Sudan") & (pl.col("edition") == "2026")).row(0, named=True)
    assert sudan["pr_rating_pub"] is None and sudan["status_pub"] == "NF"
