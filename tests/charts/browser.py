"""Opening a chart as a user sees it: headless Chromium over the DevTools pipe.

`HeadlessChromium` starts one browser (the one `find_browser` picks, the same
rule as static export) and opens pages in fresh tabs; `open_in_chromium` is the
one-shot form. Each open returns a `PageView`: the screenshot, the console
errors and uncaught exceptions, and how long plotly took to draw. The
DevTools protocol runs over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out,
NUL-terminated JSON), so there is no port and nothing else to install. Every
wait is bounded and the browser's process group is always killed.

The pixel helpers read PNG bytes with Pillow: count pixels of a colour, the
columns or rows that hold it, and the runs ("lanes") those form.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mipv6scope.charts.export import BROWSER_ENV, find_browser

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-breakpad", "--disable-crash-reporter", "--disable-dev-shm-usage",
    "--hide-scrollbars", "--mute-audio",
    "--remote-debugging-pipe",
)
START_TIMEOUT_S = 20.0
DRAW_TIMEOUT_S = 20.0
COMMAND_TIMEOUT_S = 20.0
LOAD_GRACE_S = 5.0  # plotly draws while the page loads; this long after, give up
POLL_S = 0.01

# Runs in every page before its scripts: when the page sets window.Plotly, hand
# it a view whose newPlot/react note (in the page's clock, ms since navigation
# started) when their promise resolves, i.e. when plotly has drawn.
_DRAWN_HOOK = """
(() => {
  let real;
  const note = (done) => Promise.resolve(done).then(
    () => { window.__mipv6scopeDrawnMs = performance.now(); },
    (e) => { window.__mipv6scopeDrawError = String(e && e.stack || e); });
  const wrap = (plotly) => new Proxy(plotly, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if ((key === "newPlot" || key === "react") && typeof value === "function") {
        return function (...args) { const done = value.apply(target, args); note(done); return done; };
      }
      return value;
    },
  });
  Object.defineProperty(window, "Plotly", {
    configurable: true, enumerable: true,
    get() { return real; },
    set(value) { real = value && typeof value === "object" ? wrap(value) : value; },
  });
})();
"""
_DRAWN_PROBE = """
(() => {
  if (window.__mipv6scopeDrawError) return "error: " + window.__mipv6scopeDrawError;
  const ms = window.__mipv6scopeDrawnMs;
  return typeof ms === "number" && document.querySelector(".main-svg") ? ms : null;
})()
"""


class ChromiumError(RuntimeError):
    """The browser failed, answered with an error, or did not answer in time."""


@dataclass(frozen=True)
class PageView:
    """A page as headless Chromium showed it. Unpacks as ``png, console_errors``."""

    png: bytes
    console_errors: list[str]
    drawn_ms: float  # page clock: navigation start -> plotly's newPlot resolved
    wall_ms: float   # our clock: Page.navigate sent -> drawn seen by polling
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def __iter__(self) -> Iterator[Any]:
        yield self.png
        yield self.console_errors


def skip_without_chromium() -> str:
    """The browser path, or skip the calling test saying why there is none."""
    found = find_browser()
    if not found:
        where = os.environ.get(BROWSER_ENV)
        reason = (f"{BROWSER_ENV}={where} is not an executable" if where
                  else "no chromium, chromium-browser or google-chrome on PATH")
        pytest.skip(f"{reason}: apt-get install chromium")
    return found


class HeadlessChromium:
    """One headless Chromium; `open` loads pages in fresh tabs. A context manager."""

    def __init__(self, browser: str | None = None) -> None:
        self.browser = browser or find_browser()
        if not self.browser:
            raise ChromiumError("no Chromium found: apt-get install chromium")
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._to_browser = self._from_browser = -1
        self._buffer = b""
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> HeadlessChromium:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- life cycle -----------------------------------------------------------

    def start(self) -> None:
        """Launch the browser (a fresh profile in a temporary folder) and wait
        until it answers on the pipe."""
        self._tmp = Path(tempfile.mkdtemp(prefix="mipv6scope-chromium-"))
        to_r, self._to_browser = os.pipe()
        self._from_browser, from_w = os.pipe()
        # The browser reads commands on fd 3 and writes answers on fd 4: the
        # shell moves our pipes there and exec's the browser (or Debian's
        # wrapper script, whose stray shell error lands in stderr.log).
        command = ["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null',
                   str(self.browser), *CHROMIUM_FLAGS,
                   f"--user-data-dir={self._tmp / 'profile'}"]
        try:
            with open(self._tmp / "stderr.log", "wb") as stderr:
                self._proc = subprocess.Popen(command, stdin=to_r, stdout=from_w,
                                              stderr=stderr, start_new_session=True,
                                              close_fds=True)
        finally:
            os.close(to_r)
            os.close(from_w)
        try:
            self.call("Browser.getVersion", timeout_s=START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Ask the browser to quit, then kill its whole process group; remove
        the profile. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError, ChromiumError):
                self._send("Browser.close", {}, None)
            _wait_unreaped(proc.pid, 3.0)
            # the group stays ours while its leader is not reaped
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for fd in (self._to_browser, self._from_browser):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_browser = self._from_browser = -1
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- pages ------------------------------------------------------------------

    def open(self, html_path: str | os.PathLike[str], width: int = 1000, height: int = 700,
             timeout_s: float = DRAW_TIMEOUT_S) -> PageView:
        """Load ``html_path`` in a new ``width`` x ``height`` tab, wait until
        plotly has drawn, screenshot it and return what the page showed."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            session = self.call("Target.attachToTarget",
                                {"targetId": target, "flatten": True})["sessionId"]
            self._events = []
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=session)
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": False}, session=session)
            self.call("Page.addScriptToEvaluateOnNewDocument", {"source": _DRAWN_HOOK},
                      session=session)
            started = time.perf_counter()
            nav = self.call("Page.navigate", {"url": Path(html_path).resolve().as_uri()},
                            session=session)
            if nav.get("errorText"):
                raise ChromiumError(f"cannot load {html_path}: {nav['errorText']}")
            drawn_ms = self._wait_drawn(session, started + timeout_s)
            wall_ms = (time.perf_counter() - started) * 1000
            shot = self.call("Page.captureScreenshot", {"format": "png"}, session=session)
            events = [e for e in self._events if e.get("sessionId") == session]
            return PageView(png=base64.b64decode(shot["data"]),
                            console_errors=console_errors(events),
                            drawn_ms=drawn_ms, wall_ms=wall_ms, events=events)
        finally:
            with contextlib.suppress(ChromiumError, OSError):
                self.call("Target.closeTarget", {"targetId": target})

    def _wait_drawn(self, session: str, deadline: float) -> float:
        loaded_at: float | None = None
        while True:
            try:
                answer = self.call("Runtime.evaluate",
                                   {"expression": _DRAWN_PROBE, "returnByValue": True},
                                   session=session,
                                   timeout_s=max(0.5, deadline - time.perf_counter()))
                value = answer.get("result", {}).get("value")
            except ChromiumError as exc:  # e.g. the context went away mid-navigation
                if "did not answer" in str(exc):
                    raise
                value = None
            if isinstance(value, (int, float)):
                return float(value)
            if isinstance(value, str):
                raise ChromiumError(f"plotly failed to draw: {value}")
            mine = [e for e in self._events if e.get("sessionId") == session]
            now = time.perf_counter()
            if loaded_at is None and any(e["method"] == "Page.loadEventFired" for e in mine):
                loaded_at = now
            if now > deadline or (loaded_at is not None and now - loaded_at > LOAD_GRACE_S):
                raise ChromiumError("plotly did not draw in time; "
                                    f"console errors: {console_errors(mine)}")
            time.sleep(POLL_S)

    # -- protocol ---------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout_s: float = COMMAND_TIMEOUT_S) -> dict[str, Any]:
        """Send one DevTools command and return its result; events that arrive
        meanwhile are kept for `open`."""
        if self._proc is None:
            raise ChromiumError("the browser is not running")
        ident = self._send(method, params or {}, session)
        deadline = time.perf_counter() + timeout_s
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == ident:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> int:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data):]
        except OSError as exc:
            raise ChromiumError(f"{method}: the browser is gone ({exc})") from exc
        return ident

    def _receive(self, deadline: float, method: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ChromiumError(f"{method}: the browser did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ChromiumError(f"{method}: the browser closed the pipe; "
                                    f"its stderr ends: {self.stderr_tail()!r}")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the browser wrote on stderr (for error messages)."""
        if self._tmp is None or not (self._tmp / "stderr.log").is_file():
            return ""
        text = (self._tmp / "stderr.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def open_in_chromium(html_path: str | os.PathLike[str], width: int = 1000,
                     height: int = 700) -> PageView:
    """Start a browser, open one page (see `HeadlessChromium.open`), stop it."""
    with HeadlessChromium() as chromium:
        return chromium.open(html_path, width, height)


def console_errors(events: Sequence[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions and error log entries, as text."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append("console: " + " ".join(_remote_text(a) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description")
            found.append("uncaught: " + (described or details.get("text", "?")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"log: {entry.get('text', '')} {entry.get('url', '')}".rstrip())
    return found


def _remote_text(arg: dict[str, Any]) -> str:
    for key in ("value", "unserializableValue", "description"):
        if key in arg:
            return str(arg[key])
    return str(arg.get("type", "?"))


def _wait_unreaped(pid: int, timeout_s: float) -> None:
    """Wait until ``pid`` exits, without reaping it (so its group id stays ours)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except ChildProcessError:
            return
        time.sleep(0.02)


# -- pixels -------------------------------------------------------------------

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom excluded)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def hex_rgb(colour: str) -> RGB:
    """'#d62728' -> (214, 39, 40)."""
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def colour_mask(png: bytes, rgb: RGB, tolerance: int = 0, box: Box | None = None):
    """A Pillow "L" image: 255 where a pixel is within ``tolerance`` of ``rgb``
    on every channel, 0 elsewhere (of ``box`` only, when given)."""
    from PIL import Image, ImageChops

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if box is not None:
        image = image.crop(box)
    masks = [band.point([255 if abs(v - want) <= tolerance else 0 for v in range(256)])
             for band, want in zip(image.split(), rgb, strict=True)]
    return ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2])


def count_pixels(png: bytes, rgb: RGB, tolerance: int = 0, box: Box | None = None) -> int:
    """How many pixels are within ``tolerance`` of ``rgb`` (in ``box``)."""
    return colour_mask(png, rgb, tolerance, box).histogram()[255]


def pixel_columns_with(png: bytes, rgb: RGB, tolerance: int = 0, box: Box | None = None,
                       min_pixels: int = 1) -> list[int]:
    """The x of every column holding at least ``min_pixels`` pixels of the
    colour (in image coordinates, also when ``box`` is given)."""
    from PIL import Image

    mask = colour_mask(png, rgb, tolerance, box).transpose(Image.Transpose.TRANSPOSE)
    return _lines_with(mask, min_pixels, box[0] if box else 0)


def pixel_rows_with(png: bytes, rgb: RGB, tolerance: int = 0, box: Box | None = None,
                    min_pixels: int = 1) -> list[int]:
    """The y of every row holding at least ``min_pixels`` pixels of the colour."""
    return _lines_with(colour_mask(png, rgb, tolerance, box), min_pixels, box[1] if box else 0)


def runs(indices: Sequence[int], gap: int = 1) -> list[tuple[int, int]]:
    """Consecutive indices grouped as (first, last); a jump over ``gap`` starts a new run."""
    found: list[tuple[int, int]] = []
    for i in indices:
        if found and i - found[-1][1] <= gap:
            found[-1] = (found[-1][0], i)
        else:
            found.append((i, i))
    return found


def vertical_lanes(png: bytes, rgb: RGB, tolerance: int = 0, box: Box | None = None,
                   min_pixels: int = 1, gap: int = 1) -> list[tuple[int, int]]:
    """The vertical bands (first x, last x) where the colour appears: "N lanes"."""
    return runs(pixel_columns_with(png, rgb, tolerance, box, min_pixels), gap)


def _lines_with(mask: Any, min_pixels: int, offset: int) -> list[int]:
    width, height = mask.size
    data = mask.tobytes()
    return [offset + y for y in range(height)
            if data.count(255, y * width, (y + 1) * width) >= min_pixels]
