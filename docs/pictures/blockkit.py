"""Block Kit as HTML, drawn the way Slack draws it, for the README's pictures.

Slack publishes no renderer, so this is a small one for the blocks the bot sends: header,
section (mrkdwn text, fields, a button beside it), context, divider, actions (buttons), image.
Any other block is drawn as a dashed box naming its type, so a picture never hides what this
renderer does not know. mrkdwn: *bold*, _italic_, ~strike~, `code`, ```code blocks```, > quotes,
links `<url|label>`, mentions `<@U…>`, channels `<#C…>`, `<!here>`, and emoji shortcodes.
https://api.slack.com/reference/block-kit/blocks · https://api.slack.com/reference/surfaces/formatting
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping
from typing import Any

#: Slack's names for the emoji the bot and its people use (the subset Slack shares with
#: Unicode's CLDR names and GitHub's shortcodes); an unknown one is shown as typed and named
#: on stderr, so whoever adds one to the bot adds it here.
EMOJI = {
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "large_purple_circle": "🟣",
    "white_circle": "⚪",
    "black_circle": "⚫",
    "red_square": "🟥",
    "large_orange_square": "🟧",
    "large_green_square": "🟩",
    "large_blue_square": "🟦",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "ballot_box_with_check": "☑️",
    "x": "❌",
    "heavy_multiplication_x": "✖️",
    "warning": "⚠️",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "rotating_light": "🚨",
    "exclamation": "❗",
    "question": "❓",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "stopwatch": "⏱️",
    "calendar": "📆",
    "date": "📅",
    "spiral_calendar_pad": "🗓️",
    "spiral_calendar": "🗓️",
    "memo": "📝",
    "pencil": "📝",
    "pencil2": "✏️",
    "clipboard": "📋",
    "bar_chart": "📊",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "pushpin": "📌",
    "round_pushpin": "📍",
    "paperclip": "📎",
    "link": "🔗",
    "mag": "🔍",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "wave": "👋",
    "point_right": "👉",
    "tada": "🎉",
    "sparkles": "✨",
    "fire": "🔥",
    "construction": "🚧",
    "arrows_counterclockwise": "🔄",
    "repeat": "🔁",
    "arrow_up": "⬆️",
    "arrow_down": "⬇️",
    "arrow_right": "➡️",
    "small_red_triangle": "🔺",
    "small_red_triangle_down": "🔻",
    "arrow_up_small": "🔼",
    "arrow_down_small": "🔽",
    "heavy_plus_sign": "➕",
    "heavy_minus_sign": "➖",
    "information_source": "ℹ️",
    "speech_balloon": "💬",
    "email": "📧",
    "envelope": "✉️",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "lock": "🔒",
    "key": "🔑",
    "house": "🏠",
    "office": "🏢",
    "raised_hand": "✋",
    "eyes": "👀",
    "thumbsup": "👍",
    "+1": "👍",
}

_TOKEN = re.compile(r"<([^<>\n]+)>")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
# Slack's emphasis: the markers touch the words they wrap and sit between spaces or punctuation.
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "s"),
)
# Markup is kept out of the way of the emphasis rules behind characters of Unicode's private
# use area, which no text of ours holds.
_HOLD = "\ue000{}\ue001"
_HELD = re.compile("\ue000(\\d+)\ue001")

#: Emoji shortcodes met that EMOJI does not know (reported once each).
unknown_emoji: set[str] = set()


class Names:
    """Who and what ids stand for: Slack shows names where the text holds ids."""

    def __init__(
        self, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
    ) -> None:
        self.users = dict(users or {})
        self.channels = dict(channels or {})


def emoji(name: str) -> str:
    """The emoji a shortcode names, or the shortcode itself when it is not known here."""
    if name in EMOJI:
        return EMOJI[name]
    if name not in unknown_emoji:
        unknown_emoji.add(name)
        print(f"blockkit: unknown emoji :{name}: shown as text", file=sys.stderr)
    return f":{name}:"


def _emoji_html(match: re.Match[str]) -> str:
    shown = emoji(match.group(1))
    return f'<span class="emoji">{shown}</span>' if shown != match.group(0) else shown


def _token(token: str, names: Names) -> str:
    """One `<…>` of mrkdwn as HTML."""
    target, _, label = token.partition("|")
    if target.startswith("@"):
        name = label or names.users.get(target[1:], target[1:])
        return f'<span class="mention">@{html.escape(name)}</span>'
    if target.startswith("#"):
        name = label or names.channels.get(target[1:], target[1:])
        return f'<span class="channel">#{html.escape(name)}</span>'
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        if special.startswith("date"):
            return html.escape(label or special)
        return f'<span class="mention">@{html.escape(label or special)}</span>'
    url = html.unescape(target)
    shown = html.unescape(label) if label else url.removeprefix("mailto:")
    return f'<a href="{html.escape(url)}">{html.escape(shown)}</a>'


def mrkdwn(text: str, names: Names) -> str:
    """Slack's mrkdwn (escaped the Slack way: `&amp;`, `&lt;`, `&gt;`) as HTML."""
    held: list[str] = []

    def hold(markup: str) -> str:
        held.append(markup)
        return _HOLD.format(len(held) - 1)

    def pre(match: re.Match[str]) -> str:
        return hold(f"<pre>{html.escape(html.unescape(match.group(1).strip(chr(10))))}</pre>")

    def code(match: re.Match[str]) -> str:
        return hold(f"<code>{html.escape(html.unescape(match.group(1)))}</code>")

    text = _CODE_BLOCK.sub(pre, text)
    text = _CODE.sub(code, text)
    text = _TOKEN.sub(lambda m: hold(_token(m.group(1), names)), text)
    out = html.escape(html.unescape(text), quote=False)
    for pattern, tag in _STYLES:
        out = pattern.sub(rf"<{tag}>\1</{tag}>", out)
    out = _EMOJI.sub(_emoji_html, out)
    lines, quote = [], []
    for line in out.split("\n"):
        if line.startswith("&gt; ") or line == "&gt;":
            quote.append(line[5:])
            continue
        if quote:
            lines.append(f"<blockquote>{'<br>'.join(quote)}</blockquote>")
            quote = []
        lines.append(line)
    if quote:
        lines.append(f"<blockquote>{'<br>'.join(quote)}</blockquote>")
    joined = "<br>".join(lines).replace("</blockquote><br>", "</blockquote>")
    return _HELD.sub(lambda m: held[int(m.group(1))], joined)


def text_object(obj: Mapping[str, Any] | None, names: Names) -> str:
    """A composition text object (mrkdwn or plain_text) as HTML."""
    if not obj:
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    shown = html.escape(text).replace("\n", "<br>")
    return _EMOJI.sub(_emoji_html, shown) if obj.get("emoji", True) else shown


def _button(element: Mapping[str, Any], names: Names) -> str:
    style = element.get("style", "default")
    label = text_object(element.get("text"), names)
    return f'<span class="button {html.escape(str(style))}">{label}</span>'


def _element(element: Mapping[str, Any], names: Names) -> str:
    """An interactive element or image inside a section, context or actions block."""
    kind = element.get("type")
    if kind == "button":
        return _button(element, names)
    if kind == "image":
        alt = html.escape(str(element.get("alt_text", "")))
        return (
            f'<img class="inline" src="{html.escape(str(element.get("image_url")))}" alt="{alt}">'
        )
    if kind in ("mrkdwn", "plain_text"):
        return f"<span>{text_object(element, names)}</span>"
    if kind == "overflow":
        return '<span class="button overflow">⋯</span>'
    if kind in ("static_select", "users_select", "conversations_select", "datepicker"):
        placeholder = text_object(element.get("placeholder"), names) or "Select"
        return f'<span class="button select">{placeholder} ▾</span>'
    return _unknown(f"element {kind}")


def _unknown(what: str) -> str:
    return f'<div class="unknown">{html.escape(what)}: not drawn by this renderer</div>'


def block(item: Mapping[str, Any], names: Names) -> str:
    """One block as HTML."""
    kind = item.get("type")
    if kind == "header":
        return f'<div class="header">{text_object(item.get("text"), names)}</div>'
    if kind == "divider":
        return '<hr class="divider">'
    if kind == "section":
        parts = []
        if item.get("text"):
            parts.append(f'<div class="text">{text_object(item["text"], names)}</div>')
        if item.get("fields"):
            fields = "".join(
                f'<div class="field">{text_object(f, names)}</div>' for f in item["fields"]
            )
            parts.append(f'<div class="fields">{fields}</div>')
        body = f'<div class="body">{"".join(parts)}</div>'
        accessory = item.get("accessory")
        aside = f'<div class="accessory">{_element(accessory, names)}</div>' if accessory else ""
        return f'<div class="section">{body}{aside}</div>'
    if kind == "context":
        elements = "".join(_element(e, names) for e in item.get("elements", []))
        return f'<div class="context">{elements}</div>'
    if kind == "actions":
        elements = "".join(_element(e, names) for e in item.get("elements", []))
        return f'<div class="actions">{elements}</div>'
    if kind == "image":
        title = text_object(item.get("title"), names)
        alt = html.escape(str(item.get("alt_text", "")))
        src = html.escape(str(item.get("image_url", "")))
        caption = f'<div class="image-title">{title}</div>' if title else ""
        return f'<div class="image">{caption}<img src="{src}" alt="{alt}"></div>'
    return _unknown(f"block {kind}")


def blocks(items: list[dict[str, Any]], names: Names) -> str:
    """A list of blocks as HTML."""
    return "\n".join(block(item, names) for item in items)


# --- the page around the blocks ------------------------------------------------------------

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1d1c1d; -webkit-font-smoothing: antialiased;
  font: 15px/1.46668 Lato, "Helvetica Neue", Helvetica, "Liberation Sans", Arial, sans-serif,
  "Noto Color Emoji"; }
.bar { background: #3f0e40; color: #fff; padding: 12px 16px; font-weight: 700; font-size: 17px;
  display: flex; align-items: center; gap: 8px; }
.bar small { display: block; font-weight: 400; font-size: 12px; opacity: .75; }
.tabs { display: flex; gap: 20px; padding: 0 16px; border-bottom: 1px solid #ddd;
  font-size: 14px; color: #616061; }
.tabs span { padding: 10px 0; }
.tabs .on { color: #1d1c1d; font-weight: 700; box-shadow: inset 0 -2px #1264a3; }
.notification { margin: 12px 12px 0; padding: 10px 12px; border-radius: 14px;
  background: #f2f2f4; font-size: 13px; line-height: 1.35; }
.notification b { display: block; font-size: 12px; color: #616061; font-weight: 700; }
.message { display: flex; gap: 8px; padding: 12px 16px 16px; }
.avatar { flex: none; width: 36px; height: 36px; border-radius: 8px; background: #2eb67d;
  color: #fff; font-weight: 900; font-size: 15px; display: flex; align-items: center;
  justify-content: center; }
.content { flex: 1; min-width: 0; }
.home { padding: 8px 16px 20px; }
.sender { font-weight: 900; }
.sender .app { font-size: 10px; font-weight: 700; color: #616061; background: rgba(29,28,29,.13);
  border-radius: 2px; padding: 1px 3px; margin: 0 4px; vertical-align: 2px; }
.sender time { font-weight: 400; font-size: 12px; color: #616061; }
.header { font-size: 18px; font-weight: 900; line-height: 1.33; margin: 8px 0 4px; }
.section { display: flex; gap: 8px; margin: 4px 0; }
.section .body { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 16px; margin-top: 4px; }
.context { font-size: 12px; line-height: 1.5; color: #616061; margin: 4px 0;
  display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; }
.context img.inline { width: 16px; height: 16px; border-radius: 3px; }
.divider { border: 0; border-top: 1px solid #ddd; margin: 12px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 12px; }
.button { display: inline-block; border: 1px solid rgba(29,28,29,.3); border-radius: 8px;
  padding: 5px 12px; font-size: 14px; font-weight: 700; line-height: 20px; background: #fff;
  white-space: nowrap; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.mention { color: #1264a3; background: rgba(29,155,209,.1); border-radius: 3px; padding: 0 2px; }
.channel, a { color: #1264a3; text-decoration: none; }
code { font: 12px/1.5 Monaco, Menlo, "DejaVu Sans Mono", monospace; color: #e01e5a;
  background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 3px;
  padding: 1px 3px; }
pre { font: 12px/1.5 Monaco, Menlo, "DejaVu Sans Mono", monospace; white-space: pre-wrap;
  background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 4px;
  padding: 8px; margin: 4px 0; }
blockquote { margin: 4px 0; padding-left: 12px; border-left: 4px solid #ddd; }
.emoji { font-family: "Noto Color Emoji", "Apple Color Emoji", sans-serif; font-size: 1.05em; }
.image img { max-width: 100%; border-radius: 8px; }
.unknown { border: 1px dashed #e01e5a; color: #e01e5a; padding: 6px; font-size: 12px; }
"""


def page(
    items: list[dict[str, Any]],
    names: Names,
    *,
    title: str,
    subtitle: str = "",
    sender: str = "Actionbot",
    time: str = "",
    notification: str | None = None,
    home: bool = False,
) -> str:
    """A whole HTML page: a phone's Slack screen showing one message, or the App Home tab."""
    bar = (
        f'<div class="bar"><div>{html.escape(title)}'
        f"<small>{html.escape(subtitle)}</small></div></div>"
    )
    drawn = blocks(items, names)
    if home:
        tabs = (
            '<div class="tabs"><span class="on">Home</span>'
            "<span>Messages</span><span>About</span></div>"
        )
        body = f'{bar}{tabs}<div class="home">{drawn}</div>'
    else:
        note = ""
        if notification is not None:
            plain = plain_text(notification, names)
            note = (
                f'<div class="notification"><b>{html.escape(sender)} · notification</b>'
                f"{html.escape(plain)}</div>"
            )
        avatar = "".join(word[0] for word in sender.split()[:2]).upper()
        head = (
            f'<div class="sender">{html.escape(sender)}<span class="app">APP</span>'
            f"<time>{html.escape(time)}</time></div>"
        )
        body = (
            f'{bar}{note}<div class="message"><div class="avatar">{avatar}</div>'
            f'<div class="content">{head}{drawn}</div></div>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def plain_text(text: str, names: Names) -> str:
    """The words a notification shows for a message's `text` (Slack's markup resolved)."""
    shown = _TOKEN.sub(
        lambda m: re.sub(r"<[^>]+>", "", html.unescape(_token(m.group(1), names))), text
    )
    shown = _EMOJI.sub(lambda m: emoji(m.group(1)), shown)
    return html.unescape(shown)
