"""Builds the Teams app package an admin uploads: `python deploy/teams/package.py --app-id <id>`.

The zip holds manifest.json (with the app id and developer details filled in) and the two
icons at its root, as Teams requires
(https://learn.microsoft.com/en-us/microsoftteams/platform/concepts/build-and-test/apps-package).
The app id defaults to TEAMS_APP_ID; nothing secret goes into the package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ICONS = ("color.png", "outline.png")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def manifest(app_id: str, *, developer: str, website: str) -> dict[str, object]:
    """manifest.json with its placeholders filled; ValueError for a malformed id or URL."""
    if not _GUID.fullmatch(app_id):
        raise ValueError(f"the app id should be the registration's GUID, not {app_id!r}")
    if not website.startswith("https://"):
        raise ValueError("the website URL must start with https:// (Teams requires it)")
    text = (HERE / "manifest.json").read_text(encoding="utf-8")
    for name, value in {
        "TEAMS_APP_ID": app_id,
        "DEVELOPER_NAME": developer,
        "WEBSITE_URL": website,
    }.items():
        text = text.replace("{{" + name + "}}", json.dumps(value)[1:-1])
    data: dict[str, object] = json.loads(text)
    if "{{" in json.dumps(data):
        raise ValueError("manifest.json has a placeholder package.py does not know")
    return data


def build(app_id: str, out: Path, *, developer: str, website: str) -> Path:
    """Write the zip to `out` and return its path."""
    data = manifest(app_id, developer=developer, website=website)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        for icon in ICONS:
            archive.write(HERE / icon, icon)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", default=os.environ.get("TEAMS_APP_ID"))
    parser.add_argument("--developer", default="Improvement Board")
    parser.add_argument("--website", default="https://github.com/")
    parser.add_argument("--out", type=Path, default=HERE / "build" / "actionbot-teams.zip")
    args = parser.parse_args(argv)
    if not args.app_id:
        parser.error("give --app-id or set TEAMS_APP_ID")
    try:
        path = build(args.app_id, args.out, developer=args.developer, website=args.website)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
