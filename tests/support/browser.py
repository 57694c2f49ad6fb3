"""Headless Chromium for tests and scripts: open a page at a width, screenshot it, run a script.

Chromium is driven through the DevTools protocol on loopback (the port it picks, read from
the DevToolsActivePort file of its own profile directory), so a page can be measured and shot
whole at any height, and a script (axe-core, say) can be run in it with its result as JSON.

    with Browser() as browser:
        page = browser.open("docs/pictures/digest.html", width=390)
        page.screenshot(Path("digest.png"))
        page.evaluate("document.title")

The browser is Debian's `chromium` (`apt-get install chromium`, as `bash .ci/run` does), or the
executable the CHROMIUM variable names. Tests call `require_chromium()`, which skips with a
message saying how to install it when there is none.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: Where Debian's package puts it, then the names other systems use.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "apt-get install -y chromium (bash .ci/run installs it), or set CHROMIUM"
#: A phone's width in CSS pixels (an iPhone 12 to 15).
PHONE_WIDTH = 390
TIMEOUT = 30.0


class BrowserError(Exception):
    """Chromium could not be started, or a page failed to load or to run a script."""


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM if set, else the first of CANDIDATES on PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium executable, or skip the calling test saying how to install one."""
    import pytest  # only tests call this: scripts need not have pytest

    found = find_chromium()
    if found is None:
        pytest.skip(f"no headless browser: Chromium is not installed ({INSTALL_HINT})")
    return found


def page_url(target: str | Path) -> str:
    """A URL as given, or a file's `file://` URL."""
    text = str(target)
    if "://" in text or text.startswith(("about:", "data:")):
        return text
    return Path(text).resolve().as_uri()


class Browser:
    """One headless Chromium process with its own throwaway profile; close it when done."""

    def __init__(self, executable: str | None = None, *, timeout: float = TIMEOUT) -> None:
        found = executable or find_chromium()
        if found is None:
            raise BrowserError(f"Chromium is not installed ({INSTALL_HINT})")
        self.timeout = timeout
        # Chromium's helper processes may still be writing to the profile as it is removed;
        # a leftover file in /tmp is no failure of the page under test.
        self._profile = tempfile.TemporaryDirectory(
            prefix="actionbot-chromium-", ignore_cleanup_errors=True
        )
        profile = Path(self._profile.name)
        self._process = subprocess.Popen(
            [
                found,
                "--headless",
                # Root in a container has no user namespace for the sandbox; the pages are ours.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--mute-audio",
                "--force-color-profile=srgb",
                "--font-render-hinting=none",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: closing stops the renderers and helpers with it.
            start_new_session=True,
        )
        # Entered as a context (websockets asks for it), left in close().
        self._stack = ExitStack()
        try:
            self._socket: ClientConnection = self._stack.enter_context(
                connect(
                    self._endpoint(profile),
                    max_size=None,
                    open_timeout=timeout,
                    ping_interval=None,
                )
            )
        except Exception:
            self.close()
            raise
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def _endpoint(self, profile: Path) -> str:
        """The browser's DevTools WebSocket, from the file Chromium writes once it listens."""
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited at start (status {self._process.returncode})")
            lines = active.read_text().split() if active.is_file() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise BrowserError(f"Chromium did not open its DevTools port within {self.timeout:.0f} s")

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result; events that come meanwhile are kept."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer within {self.timeout:.0f} s")
            answer: dict[str, Any] = json.loads(self._socket.recv(timeout=left))
            if answer.get("id") != number:
                self._events.append(answer)
                continue
            if "error" in answer:
                raise BrowserError(f"{method}: {answer['error'].get('message', answer['error'])}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def events(self, session: str, method: str) -> list[dict[str, Any]]:
        """The parameters of the events `method` a page has sent so far."""
        return [
            e.get("params", {})
            for e in self._events
            if e.get("sessionId") == session and e.get("method") == method
        ]

    def open(
        self,
        target: str | Path,
        *,
        width: int = PHONE_WIDTH,
        height: int = 800,
        scale: float = 1,
    ) -> Page:
        """A new tab showing `target` (a URL or an HTML file) at `width` CSS pixels, loaded."""
        target_id = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target_id, flatten=True)
        page = Page(self, target_id, str(session["sessionId"]), width=width, scale=scale)
        page.load(page_url(target), height=height)
        return page

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        stack: ExitStack | None = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)  # helpers left behind, if any
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Page:
    """A tab of the browser at a fixed width."""

    def __init__(
        self, browser: Browser, target_id: str, session: str, *, width: int, scale: float
    ) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session = session
        self.width = width
        self.scale = scale

    def _send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, self.session, **params)

    def _size(self, height: int) -> None:
        self._send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=height,
            deviceScaleFactor=self.scale,
            mobile=False,
        )

    def load(self, url: str, *, height: int = 800) -> None:
        """Go to `url` and wait until it and its fonts have loaded."""
        self._send("Runtime.enable")
        self._size(height)
        answer = self._send("Page.navigate", url=url)
        if answer.get("errorText"):
            raise BrowserError(f"could not open {url}: {answer['errorText']}")
        self.wait_for("document.readyState === 'complete'")
        self.evaluate("document.fonts.ready.then(() => true)")

    @property
    def errors(self) -> list[str]:
        """Uncaught exceptions the page's scripts threw, as text."""
        found = []
        for event in self.browser.events(self.session, "Runtime.exceptionThrown"):
            details = event.get("exceptionDetails", {})
            found.append(str(details.get("exception", {}).get("description") or details))
        return found

    def evaluate(self, script: str) -> Any:
        """The JSON value of a script expression, a promise awaited."""
        answer = self._send(
            "Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"script failed: {text}")
        return answer.get("result", {}).get("value")

    def add_script(self, path: Path) -> None:
        """Run a script file in the page as a `<script>` would (a library such as axe-core)."""
        self.evaluate(path.read_text(encoding="utf-8") + "\n;true")

    def wait_for(self, expression: str, *, timeout: float | None = None) -> None:
        """Wait until `expression` is true in the page."""
        deadline = time.monotonic() + (timeout or self.browser.timeout)
        while not self.evaluate(f"Boolean({expression})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def screenshot(self, path: Path) -> Path:
        """The whole page as a PNG at the page's width (times its scale), however tall."""
        # Measured in a short viewport: the document is never shorter than the viewport.
        self._size(100)
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self._size(max(height, 1))
        shot = self._send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        """Close the tab."""
        self.browser.send("Target.closeTarget", targetId=self.target_id)


@contextmanager
def opened(target: str | Path, *, width: int = PHONE_WIDTH, scale: float = 1) -> Iterator[Page]:
    """One page in a browser of its own, for a single look."""
    with Browser() as browser:
        yield browser.open(target, width=width, scale=scale)


def screenshot(
    target: str | Path, path: Path, *, width: int = PHONE_WIDTH, scale: float = 1
) -> Path:
    """Open `target` at `width` and save the whole page as a PNG at `path`."""
    with opened(target, width=width, scale=scale) as page:
        return page.screenshot(path)


def evaluate(target: str | Path, script: str, *, width: int = 1024) -> Any:
    """Open `target` and return the JSON value of `script` run in it (a promise awaited)."""
    with opened(target, width=width) as page:
        return page.evaluate(script)
