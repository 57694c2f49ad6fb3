"""The Teams app package: manifest filled in, icons of the sizes Teams requires, zipped flat."""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "12345678-1234-1234-1234-123456789abc"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "teams_package", ROOT / "deploy" / "teams" / "package.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_package_builds_with_the_app_id_and_icons(tmp_path: Path) -> None:
    build = _build_module()
    out = build.build(APP_ID, tmp_path / "app.zip", developer="Board", website="https://x.example")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["websiteUrl"] == "https://x.example"
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert "{{" not in json.dumps(manifest)


def test_a_malformed_app_id_is_refused(tmp_path: Path) -> None:
    build = _build_module()
    with pytest.raises(ValueError):
        build.build("not-a-guid", tmp_path / "x.zip", developer="B", website="https://x.example")
    assert build.main(["--app-id", "nope", "--out", str(tmp_path / "y.zip")]) == 2
