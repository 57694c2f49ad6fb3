"""Make the README's pictures from the bot's real output: `.venv/bin/python -m docs.pictures.make`.

The sample board's Monday morning is played on a temporary database (docs/pictures/scenario.py);
the weekly digest, a reminder and a chair's App Home as sent to Slack, and the digest as sent
to Teams, are drawn as HTML (Block Kit by docs/pictures/blockkit.py, the Adaptive Card by
Microsoft's renderer) and shot in headless Chromium at a phone's width (390 CSS pixels, at
twice the pixel density). Run it again whenever the messages change, and commit the PNGs.

Needs the dev extra (pillow, to keep the PNGs small), Chromium (`apt-get install chromium
fonts-noto-color-emoji`) and the card renderer in .ci/node (`bash .ci/run` installs them all).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from docs.pictures import blockkit, scenario, teams
from tests.support.browser import PHONE_WIDTH, Browser, BrowserError, find_chromium

HERE = Path(__file__).resolve().parent
#: Pixels per CSS pixel: sharp on a retina screen, and the README shows them at 390 wide.
SCALE = 2


@dataclass(frozen=True)
class Picture:
    """One picture: its file name and the HTML page it is shot from."""

    name: str
    html: str


def pictures(played: scenario.Pictured) -> list[Picture]:
    """The pages of the pictures, from what the bot sent."""
    names = blockkit.Names(played.users, played.channels)
    workspace = scenario.WORKSPACE
    return [
        Picture(
            "digest-slack.png",
            blockkit.page(
                played.digest.blocks,
                names,
                title=f"# {scenario.CHANNEL_NAME}",
                subtitle=workspace,
                time="9:00 AM",
                notification=played.digest.text,
            ),
        ),
        Picture(
            "reminder-slack.png",
            blockkit.page(
                played.reminder.blocks,
                names,
                title="Actionbot",
                subtitle="Direct message",
                time="9:05 AM",
                notification=played.reminder.text,
            ),
        ),
        Picture(
            "home-slack.png",
            blockkit.page(
                played.home["blocks"], names, title="Actionbot", subtitle=workspace, home=True
            ),
        ),
        Picture(
            "digest-teams.png",
            teams.page(
                played.teams_digest["attachments"][0]["content"],
                title=scenario.CHANNEL_NAME,
                subtitle=f"{workspace} · Posts",
                time="09:00",
            ),
        ),
    ]


def make(out: Path, *, keep_html: Path | None = None) -> list[Path]:
    """Play the scenario and write each picture into `out`; the paths written."""
    problem = _missing()
    if problem:
        raise SystemExit(problem)
    played = scenario.run()
    made: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="actionbot-pages-") as scratch:
        pages = keep_html or Path(scratch)
        pages.mkdir(parents=True, exist_ok=True)
        with Browser() as browser:
            for picture in pictures(played):
                source = pages / picture.name.replace(".png", ".html")
                source.write_text(picture.html, encoding="utf-8")
                page = browser.open(source, width=PHONE_WIDTH, scale=SCALE)
                if picture.name.endswith("-teams.png"):
                    page.wait_for("window.cardDrawn === true")
                    for failure in page.evaluate("window.cardErrors") or []:
                        print(f"{picture.name}: the renderer says: {failure}", file=sys.stderr)
                if page.errors:
                    raise BrowserError(f"{picture.name}: the page failed: {page.errors[0]}")
                made.append(_small(page.screenshot(out / picture.name)))
                page.close()
    return made


def _small(path: Path) -> Path:
    """The PNG with a palette of 256 colours and no dithering: text and flat colours look the
    same, and the file is about 60 % smaller, so committing new pictures costs the history less."""
    with Image.open(path) as shot:
        image = shot.convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)
    return path


def _missing() -> str | None:
    if find_chromium() is None:
        return "Chromium is not installed: apt-get install -y chromium (or set CHROMIUM)"
    return teams.missing()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m docs.pictures.make",
        description="Screenshots of the bot's digest, reminder and App Home for the README.",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where the PNGs go (default: %(default)s)"
    )
    parser.add_argument("--html", type=Path, help="also keep the HTML pages in this folder")
    args = parser.parse_args(argv)
    for path in make(args.out, keep_html=args.html):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
