"""An Adaptive Card drawn by Microsoft's own renderer (npm `adaptivecards`), in a Teams-like page.

The page loads the renderer and `markdown-it` (the markdown library the renderer uses when it
finds one) from `.ci/node`, where `bash .ci/run` installs them; the host config gives it Teams'
light theme: fonts, sizes, spacing and colours. Teams itself draws a mention (`<at>Name</at>`
with its entity) as a highlighted name: the page does the same after the markdown.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"
RENDERER_VERSION = "3.0.6"
MARKDOWN_VERSION = "15.0.3"
RENDERER = NODE_MODULES / "adaptivecards" / "dist" / "adaptivecards.min.js"
MARKDOWN = NODE_MODULES / "markdown-it" / "dist" / "browser" / "markdown-it.umd.min.js"
INSTALL = (
    "npm install --prefix .ci/node "
    f"adaptivecards@{RENDERER_VERSION} markdown-it@{MARKDOWN_VERSION} (bash .ci/run does)"
)


def missing() -> str | None:
    """Why the renderer cannot be used here, or None."""
    for path in (RENDERER, MARKDOWN):
        if not path.is_file():
            return f"{path.relative_to(ROOT)} is not installed: {INSTALL}"
    return None


#: Teams' light theme, as far as a host config carries it.
HOST_CONFIG: dict[str, Any] = {
    "fontFamily": '"Segoe UI", system-ui, "Helvetica Neue", "Liberation Sans", sans-serif, '
    '"Noto Color Emoji"',
    "supportsInteractivity": True,
    "spacing": {
        "small": 8,
        "default": 12,
        "medium": 16,
        "large": 20,
        "extraLarge": 24,
        "padding": 16,
    },
    "separator": {"lineThickness": 1, "lineColor": "#E0E0E0"},
    "fontTypes": {
        "default": {
            "fontFamily": '"Segoe UI", system-ui, "Helvetica Neue", "Liberation Sans", '
            'sans-serif, "Noto Color Emoji"',
            "fontSizes": {"small": 12, "default": 14, "medium": 18, "large": 20, "extraLarge": 24},
            "fontWeights": {"lighter": 300, "default": 400, "bolder": 600},
        },
        "monospace": {
            "fontFamily": 'Consolas, "DejaVu Sans Mono", monospace',
            "fontSizes": {"small": 12, "default": 14, "medium": 18, "large": 20, "extraLarge": 24},
            "fontWeights": {"lighter": 300, "default": 400, "bolder": 600},
        },
    },
    "containerStyles": {
        "default": {
            "backgroundColor": "#FFFFFF",
            "foregroundColors": {
                "default": {"default": "#242424", "subtle": "#616161"},
                "dark": {"default": "#252424", "subtle": "#484644"},
                "light": {"default": "#FFFFFF", "subtle": "#E1DFDD"},
                "accent": {"default": "#5B5FC7", "subtle": "#6264A7"},
                "good": {"default": "#0E700E", "subtle": "#107C10"},
                "warning": {"default": "#9C5D00", "subtle": "#835B00"},
                "attention": {"default": "#C4314B", "subtle": "#A4262C"},
            },
        },
        "emphasis": {
            "backgroundColor": "#F5F5F5",
            "foregroundColors": {
                "default": {"default": "#242424", "subtle": "#616161"},
                "accent": {"default": "#5B5FC7", "subtle": "#6264A7"},
                "good": {"default": "#0E700E", "subtle": "#107C10"},
                "warning": {"default": "#9C5D00", "subtle": "#835B00"},
                "attention": {"default": "#C4314B", "subtle": "#A4262C"},
            },
        },
    },
    "actions": {
        "maxActions": 6,
        "spacing": "default",
        "buttonSpacing": 8,
        "showCard": {"actionMode": "inline", "inlineTopMargin": 8},
        "actionsOrientation": "horizontal",
        "actionAlignment": "left",
    },
    "factSet": {
        "title": {"weight": "bolder", "size": "default", "wrap": True, "maxWidth": 150},
        "value": {"size": "default", "wrap": True},
        "spacing": 12,
    },
}

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #f5f5f5; color: #242424; -webkit-font-smoothing: antialiased;
  font: 14px/1.43 "Segoe UI", system-ui, "Helvetica Neue", "Liberation Sans", sans-serif,
  "Noto Color Emoji"; }
.bar { background: #fff; border-bottom: 1px solid #e0e0e0; padding: 10px 16px;
  display: flex; align-items: center; gap: 10px; }
.bar .team { width: 32px; height: 32px; border-radius: 6px; background: #5b5fc7; color: #fff;
  display: flex; align-items: center; justify-content: center; font-weight: 700; }
.bar b { display: block; font-size: 16px; font-weight: 600; }
.bar small { color: #616161; font-size: 12px; }
.post { margin: 12px 8px 16px; background: #fff; border-radius: 6px;
  box-shadow: 0 1px 2px rgba(0,0,0,.12); padding: 12px 0 4px; }
.who { display: flex; align-items: center; gap: 8px; padding: 0 12px 4px; font-size: 12px;
  color: #616161; }
.who .avatar { width: 32px; height: 32px; border-radius: 50%; background: #2eb67d; color: #fff;
  display: flex; align-items: center; justify-content: center; font-weight: 700; font-size: 13px; }
.who b { color: #242424; font-weight: 600; font-size: 14px; }
.card { margin: 0 4px; }
.card .ac-pushButton { border: 1px solid #d1d1d1; border-radius: 4px; background: #fff;
  color: #242424; font: 600 14px/20px inherit; padding: 5px 12px; font-family: inherit;
  white-space: nowrap; }
.card .ac-pushButton.style-positive { background: #5b5fc7; border-color: #5b5fc7; color: #fff; }
.card .ac-pushButton.style-destructive { color: #c4314b; }
.card p { margin: 0; }
.card ul, .card ol { margin: 0; padding-left: 20px; }
.card a { color: #5b5fc7; }
.mention { color: #5b5fc7; font-weight: 600; }
.unknown { border: 1px dashed #c4314b; color: #c4314b; padding: 6px; font-size: 12px; }
"""

SCRIPT = """
const markdown = window.markdownit();
// Teams shows a mention (`<at>Name</at>`, with its entity in msteams.entities) as the
// highlighted name; the markdown library leaves it as escaped text, which is replaced here.
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = markdown.render(text)
    .replace(/&lt;at&gt;(.*?)&lt;\\/at&gt;/g, '<span class="mention">$1</span>');
  result.didProcess = true;
};
// Teams does not read markdown in choice titles.
AdaptiveCards.GlobalSettings.useMarkdownInRadioButtonAndCheckbox = false;
const card = new AdaptiveCards.AdaptiveCard();
card.hostConfig = new AdaptiveCards.HostConfig(__HOST_CONFIG__);
card.parse(__CARD__, new AdaptiveCards.SerializationContext());
const drawn = card.render();
document.getElementById("card").appendChild(drawn);
window.cardErrors = card.validateProperties().validationEvents.map((e) => e.message);
window.cardDrawn = true;
"""


def page(
    card: dict[str, Any],
    *,
    title: str,
    subtitle: str = "",
    sender: str = "Actionbot",
    time: str = "",
) -> str:
    """A whole HTML page: a phone's Teams channel showing one card from the bot."""
    initials = "".join(word[0] for word in sender.split()[:2]).upper()
    script = SCRIPT.replace("__HOST_CONFIG__", _script_json(HOST_CONFIG)).replace(
        "__CARD__", _script_json(card)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f'<script src="{MARKDOWN.as_uri()}"></script>'
        f'<script src="{RENDERER.as_uri()}"></script></head><body>'
        f'<div class="bar"><div class="team">{html.escape(title[:1].upper())}</div>'
        f"<div><b>{html.escape(title)}</b><small>{html.escape(subtitle)}</small></div></div>"
        f'<div class="post"><div class="who"><div class="avatar">{initials}</div>'
        f"<b>{html.escape(sender)}</b><span>{html.escape(time)}</span></div>"
        f'<div class="card" id="card"></div></div>'
        f"<script>{script}</script></body></html>"
    )


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
