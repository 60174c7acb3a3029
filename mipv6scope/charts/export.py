"""Writing any plotly figure: HTML, JSON, and static SVG/PNG/PDF.

HTML and JSON are byte-stable: the same figure gives the same bytes in any
process (a fixed div id, sorted JSON keys, nothing from the clock). Offline
("inline") pages carry plotly.js gzip-compressed and base64-encoded (about
2 MB instead of 4.8 MB); a small loader unpacks it in the browser with
``DecompressionStream`` and every chart waits for the ``window.mipv6scopePlotly``
promise before its ``Plotly.newPlot``. A page with several charts puts
`plotlyjs_head` in its head once and one `figure_div` per chart. Static
images come from kaleido driving the system Chromium, found by `find_browser`;
without one, `BrowserMissing` says in one line what to install. Files are
written whole or not at all (a temporary file in the same folder, then
``os.replace``). ``kaleido`` is imported only when a static image is asked for
(it takes about a second to import).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import plotly.io as pio

from ..outfile import write_atomic

if TYPE_CHECKING:
    import plotly.graph_objects as go

DEFAULT_DIV_ID = "mipv6scope-chart"
PLOTLYJS_MODES = ("inline", "cdn", "directory")
PLOTLYJS_FILE = "plotly.min.js"  # the "directory" mode's bundle, beside the page
# window.<this> is a Promise of the Plotly object, settled once plotly.js is loaded
PLOTLY_READY = "mipv6scopePlotly"
# the non-executed <script> that holds plotly.js, gzip-compressed and base64-encoded
PLOTLYJS_DATA_ID = "mipv6scope-plotlyjs-gzip"
STATIC_FORMATS = ("svg", "png", "pdf")
SUFFIX_FORMATS = {
    ".html": "html", ".htm": "html", ".svg": "svg", ".png": "png",
    ".pdf": "pdf", ".mmd": "mmd", ".json": "json",
}
BROWSER_ENV = "MIPV6SCOPE_BROWSER"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = f"static export needs Chromium: apt-get install chromium (or set {BROWSER_ENV})"
STATIC_TIMEOUT_S = 60.0
# plotly's own defaults when neither the call nor the figure's layout sets a size
DEFAULT_WIDTH, DEFAULT_HEIGHT = 700, 500

Target = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]


class BrowserMissing(RuntimeError):
    """No Chromium for a static export (the message is one line: what to install)."""


class StaticExportFailed(RuntimeError):
    """The browser was found but did not render the figure (one-line message)."""


# -- formats ------------------------------------------------------------------

def format_for(path: str | os.PathLike[str]) -> str:
    """The chart format named by ``path``'s suffix: html, svg, png, pdf, mmd or json.

    Raises ValueError (one line listing the supported suffixes) for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        supported = ", ".join(SUFFIX_FORMATS)
        raise ValueError(f"cannot tell the chart format of {os.fspath(path)!r}: "
                         f"the file name must end in one of {supported}")
    return SUFFIX_FORMATS[suffix]


def write_figure(fig: go.Figure, out: str, fmt: str, *, plotlyjs: str = "inline",
                 div_id: str = DEFAULT_DIV_ID, indent: int | None = None,
                 width: int | None = None, height: int | None = None, scale: float = 1.0,
                 exporter: StaticExporter | None = None) -> None:
    """Write ``fig`` to ``out`` in ``fmt`` (see `format_for`); ``out == "-"`` is stdout.

    Each writer takes the options that concern it and ignores the others, so a
    CLI can pass all of its own: `write_html` plotlyjs and div_id, `write_json`
    indent, `write_static` width, height, scale and exporter. Static formats
    cannot go to stdout and Mermaid is not written from a figure: ValueError
    (a usage error)."""
    to_stdout = out == "-"
    if fmt in STATIC_FORMATS:
        if to_stdout:
            raise ValueError(f"a {fmt} image cannot be written to stdout: "
                             f"give a file name ending in .{fmt}")
        write_static(fig, out, fmt, width, height, scale, exporter=exporter)
    elif fmt == "html":
        write_html(fig, sys.stdout if to_stdout else out, plotlyjs, div_id)
    elif fmt == "json":
        write_json(fig, sys.stdout if to_stdout else out, indent)
    elif fmt == "mmd":
        raise ValueError("Mermaid text (.mmd) is not written from a plotly figure")
    else:
        raise ValueError(f"unknown chart format {fmt!r}: "
                         f"use one of html, json, {', '.join(STATIC_FORMATS)}, mmd")


def write_text(text: str, out: str) -> None:
    """Write text (Mermaid, say) to ``out`` atomically, or to stdout when ``out == "-"``."""
    if out == "-":
        _write_stream(sys.stdout, text)
    else:
        write_atomic(Path(out), text.encode("utf-8"))


# -- HTML and JSON ------------------------------------------------------------

def figure_html(fig: go.Figure, plotlyjs: str = "inline",
                div_id: str = DEFAULT_DIV_ID) -> str:
    """The figure as a whole HTML page; the same figure gives the same text.

    ``plotlyjs``: "inline" embeds plotly.js, compressed (works offline, about
    2 MB), "cdn" loads it from plotly's CDN, "directory" from a plotly.min.js
    beside the page. The page is `plotlyjs_head` plus one `figure_div`."""
    head = plotlyjs_head(plotlyjs)
    return ("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n"
            "<style>html, body {height: 100%;}</style>\n"
            f"{head}</head>\n<body>\n{figure_div(fig, div_id)}</body>\n</html>\n")


def plotlyjs_head(plotlyjs: str = "inline") -> str:
    """The tags that load plotly.js, for a page's ``<head>`` (once per page).

    They define ``window.mipv6scopePlotly`` (`PLOTLY_READY`), a Promise of the
    Plotly object that every `figure_div` waits for. "inline" embeds plotly.js
    gzip-compressed and base64-encoded in a data block; a loader decompresses
    it with ``DecompressionStream("gzip")`` (Chromium 80+, Firefox 113+,
    Safari 16.4+) and runs it as a script from a Blob URL, then resolves the
    promise. "cdn" and "directory" load plotly.js with an ordinary ``<script
    src>`` and resolve the promise at once (or reject it when the script did not
    load). Raises ValueError for another mode. The same mode gives the same text."""
    _check_mode(plotlyjs)
    config = "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
    if plotlyjs == "inline":
        return (config + f'<script type="application/octet-stream" id="{PLOTLYJS_DATA_ID}">'
                f"{_plotlyjs_gzip_base64()}</script>\n<script>{_INLINE_LOADER}</script>\n")
    if plotlyjs == "cdn":
        from plotly.io._utils import plotly_cdn_url

        url = plotly_cdn_url()
        tag = (f'<script charset="utf-8" src="{url}" integrity="{_plotlyjs_sri()}" '
               'crossorigin="anonymous"></script>\n')
    else:
        url = PLOTLYJS_FILE
        tag = f'<script charset="utf-8" src="{url}"></script>\n'
    ready = (f"window.{PLOTLY_READY} = window.Plotly ? Promise.resolve(window.Plotly) : "
             f"Promise.reject(new Error({json.dumps('plotly.js did not load from ' + url)}));")
    return config + tag + f"<script>{ready}</script>\n"


def figure_div(fig: go.Figure, div_id: str = DEFAULT_DIV_ID,
               config: dict[str, Any] | None = None) -> str:
    """One chart for a page whose head has `plotlyjs_head`: plotly's own
    ``<div>`` (sized as plotly sizes it) and a script that runs plotly's
    ``Plotly.newPlot(div_id, data, layout, config)`` once the
    ``window.mipv6scopePlotly`` promise resolves. Should plotly.js not load,
    the div says why and the error reaches the console. ``config`` is plotly's
    (``responsive`` defaults to true, as in ``plotly.io.to_html``); ``div_id``
    must be unique in the page. Ends in a newline."""
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False,
                      div_id=div_id, config=config)
    opening, closing = "<script>", "</script>"
    if div.count(opening) != 1 or div.count(closing) != 1:
        raise RuntimeError("plotly's chart HTML changed: expected one <script> in it")
    before, rest = div.split(opening)
    body, after = rest.split(closing)
    fail = (f"function (e) {{ var d = document.getElementById({json.dumps(div_id)}); "
            "if (d) d.textContent = 'Chart not drawn: ' + (e && e.message || e); throw e; }")
    wait = (f"(window.{PLOTLY_READY} || Promise.resolve(window.Plotly))"
            f".then(function () {{{body.rstrip()}\n}}, {fail});")
    return f"{before}{opening}{wait}{closing}{after}\n"


def embedded_plotlyjs(page: str) -> str:
    """The plotly.js that an "inline" `plotlyjs_head` put in ``page``,
    decompressed as the browser does (for tests and checks). Raises
    ValueError when the page has none."""
    found = re.search(rf'<script type="application/octet-stream" id="{PLOTLYJS_DATA_ID}">'
                      r"([A-Za-z0-9+/=]*)</script>", page)
    if found is None:
        raise ValueError("the page has no embedded plotly.js")
    return gzip.decompress(base64.b64decode(found[1], validate=True)).decode("utf-8")


def write_plotlyjs_file(folder: str | os.PathLike[str]) -> Path:
    """Write plotly.min.js (the installed plotly's) into ``folder`` for the
    "directory" mode, unless the same bytes are already there; its path."""
    from plotly.offline import get_plotlyjs

    bundle = Path(folder) / PLOTLYJS_FILE
    code = get_plotlyjs().encode("utf-8")
    if not bundle.is_file() or bundle.read_bytes() != code:
        write_atomic(bundle, code)
    return bundle


def write_html(fig: go.Figure, stream_or_path: Target, plotlyjs: str = "inline",
               div_id: str = DEFAULT_DIV_ID) -> None:
    """Write the figure's HTML page (`figure_html`) to a file or an open stream.

    With ``plotlyjs="directory"`` the page loads plotly.min.js from its folder,
    which is written there too (again when it differs from the installed
    plotly's), so it needs a path, not a stream."""
    text = figure_html(fig, plotlyjs, div_id)
    if not _is_path(stream_or_path):
        if plotlyjs == "directory":
            raise ValueError("plotlyjs='directory' writes plotly.min.js beside the page, "
                             "so it needs a file, not stdout: use inline or cdn")
        _write_stream(stream_or_path, text)
        return
    path = Path(stream_or_path)
    write_atomic(path, text.encode("utf-8"))
    if plotlyjs == "directory":
        write_plotlyjs_file(path.parent)


# Unpacks the data block of plotlyjs_head("inline") and runs it as a classic
# script (plotly.js then sets window.Plotly itself); ES2017, no eval.
_INLINE_LOADER = """
window.__READY__ = window.__READY__ || (function () {
  "use strict";
  if (typeof DecompressionStream !== "function") {
    return Promise.reject(new Error("this browser cannot unpack the embedded plotly.js "
      + "(it needs DecompressionStream: Chrome 80+, Firefox 113+, Safari 16.4+)"));
  }
  var packed = atob(document.getElementById("__DATA__").textContent);
  var bytes = new Uint8Array(packed.length);
  for (var i = 0; i < packed.length; i++) bytes[i] = packed.charCodeAt(i);
  var unpacked = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(unpacked).blob().then(function (code) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
      var script = document.createElement("script");
      script.onload = function () {
        URL.revokeObjectURL(url);
        if (window.Plotly) resolve(window.Plotly);
        else reject(new Error("the embedded plotly.js did not define Plotly"));
      };
      script.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("the embedded plotly.js could not be run"));
      };
      script.src = url;
      document.head.appendChild(script);
    });
  });
})();
""".replace("__READY__", PLOTLY_READY).replace("__DATA__", PLOTLYJS_DATA_ID)


@functools.lru_cache(maxsize=1)
def _plotlyjs_gzip_base64() -> str:
    """plotly.js gzip-compressed (level 9, mtime 0: no clock in the bytes),
    base64-encoded; computed once per process (about 0.2 s)."""
    from plotly.offline import get_plotlyjs

    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


@functools.lru_cache(maxsize=1)
def _plotlyjs_sri() -> str:
    """The Subresource Integrity hash of the CDN's plotly.js (as plotly computes it)."""
    from plotly.offline import get_plotlyjs

    digest = hashlib.sha256(get_plotlyjs().encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _check_mode(plotlyjs: str) -> None:
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}, "
                         f"not {plotlyjs!r}")


def figure_json(fig: go.Figure, indent: int | None = None) -> str:
    """The figure as JSON with sorted keys (plotly's own encoder first, for
    numpy arrays and dates), ending in a newline; the same figure gives the
    same text whether or not orjson is installed."""
    plain = json.loads(pio.to_json(fig, engine="json"))
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(plain, sort_keys=True, indent=indent, separators=separators,
                      ensure_ascii=False, allow_nan=False) + "\n"


def write_json(fig: go.Figure, stream_or_path: Target, indent: int | None = None) -> None:
    """Write `figure_json` to a file (atomically) or an open stream."""
    text = figure_json(fig, indent)
    if _is_path(stream_or_path):
        write_atomic(Path(stream_or_path), text.encode("utf-8"))
    else:
        _write_stream(stream_or_path, text)


# -- static images ------------------------------------------------------------

def find_browser() -> str | None:
    """The Chromium to use: ``$MIPV6SCOPE_BROWSER`` (a path or a command name;
    when set, nothing else is tried), else the first of chromium,
    chromium-browser, google-chrome on PATH; None when there is none."""
    explicit = os.environ.get(BROWSER_ENV)
    if explicit:
        return shutil.which(explicit)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """`find_browser`, or raise `BrowserMissing`."""
    found = find_browser()
    if found:
        return found
    explicit = os.environ.get(BROWSER_ENV)
    if explicit:
        raise BrowserMissing(f"static export needs Chromium: {BROWSER_ENV}={explicit} is not "
                             "an executable (apt-get install chromium, or point "
                             f"{BROWSER_ENV} at a Chromium or Chrome)")
    raise BrowserMissing(INSTALL_HINT)


class StaticExporter:
    """One headless Chromium, driven by kaleido, for one or more static images.

    kaleido is asynchronous; it runs here on its own event loop in a thread, so
    callers (the CLI, a TUI with its own loop, tests) just call `render`.
    Chromium runs headless, without GPU and without sandbox (kaleido's
    defaults, needed as root in a container); its stderr goes to a DEBUG
    logger, never to ours. Use as a context manager::

        with StaticExporter() as exporter:
            png = exporter.render(fig, "png", 800, 400)
    """

    def __init__(self, browser: str | None = None,
                 timeout_s: float = STATIC_TIMEOUT_S) -> None:
        self.browser = browser or require_browser()
        self.timeout_s = timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido: Any = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StaticExporter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Start Chromium (about 1-2 s); raises `StaticExportFailed` if it won't."""
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            import kaleido

            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            k = None
            try:
                k = kaleido.Kaleido(path=self.browser, mathjax=False, timeout=self.timeout_s)
                await k.open()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                if k is not None:
                    await k.close()
                return
            self._kaleido = k
            ready.set()
            try:
                await self._stop.wait()
            finally:
                await k.close()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),),
                                        name="mipv6scope-kaleido", daemon=True)
        self._thread.start()
        if not ready.wait(self.timeout_s):
            self.close()
            raise StaticExportFailed(f"{self.browser} did not start "
                                     f"within {self.timeout_s:.0f} s")
        if failure:
            self._thread.join(self.timeout_s)
            self._thread = None
            raise StaticExportFailed(f"{self.browser} did not start: "
                                     f"{_first_line(failure[0])}") from failure[0]

    def render(self, fig: go.Figure, fmt: str, width: int | None = None,
               height: int | None = None, scale: float = 1.0) -> bytes:
        """The figure as svg, png or pdf bytes, ``width`` x ``height`` layout
        pixels (default: the figure's layout, else 700 x 500) times ``scale``."""
        if fmt not in STATIC_FORMATS:
            raise ValueError(f"static format must be one of {', '.join(STATIC_FORMATS)}, "
                             f"not {fmt!r}")
        if self._kaleido is None or self._loop is None:
            raise RuntimeError("StaticExporter.render() before open()")
        default_w, default_h = _layout_size(fig)
        opts = {"format": fmt, "width": width or default_w,
                "height": height or default_h, "scale": scale}
        future = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig, opts=opts),
                                                  self._loop)
        try:
            data = future.result(self.timeout_s + 5)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise StaticExportFailed(f"{fmt} export failed: no image from {self.browser} "
                                     f"within {self.timeout_s:.0f} s") from exc
        except Exception as exc:
            raise StaticExportFailed(f"{fmt} export failed: {_first_line(exc)}") from exc
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def close(self) -> None:
        """Stop Chromium and the loop's thread (safe to call twice)."""
        loop, stop, thread = self._loop, self._stop, self._thread
        self._kaleido = self._loop = self._stop = self._thread = None
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            thread.join(self.timeout_s)


def write_static(fig: go.Figure, path: str | os.PathLike[str], fmt: str,
                 width: int | None = None, height: int | None = None, scale: float = 1.0,
                 *, exporter: StaticExporter | None = None) -> None:
    """Write the figure as an svg, png or pdf file through kaleido and Chromium.

    The image is rendered to bytes first and the file written atomically, so a
    failure leaves nothing behind. ``exporter`` reuses a running
    `StaticExporter`; without one a browser is started for this image.
    Raises `BrowserMissing` when no Chromium is found, `StaticExportFailed`
    when it does not render."""
    if fmt not in STATIC_FORMATS:
        raise ValueError(f"static format must be one of {', '.join(STATIC_FORMATS)}, "
                         f"not {fmt!r}")
    if exporter is None:
        with StaticExporter() as own:
            data = own.render(fig, fmt, width, height, scale)
    else:
        data = exporter.render(fig, fmt, width, height, scale)
    write_atomic(Path(path), data)


# -- helpers ------------------------------------------------------------------

def _layout_size(fig: go.Figure) -> tuple[int, int]:
    layout = fig.layout
    template = layout.template.layout if layout.template else None
    width = layout.width or (template.width if template else None) or DEFAULT_WIDTH
    height = layout.height or (template.height if template else None) or DEFAULT_HEIGHT
    return int(width), int(height)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _is_path(target: object) -> bool:
    return isinstance(target, (str, os.PathLike))


def _write_stream(stream: IO[str] | IO[bytes], text: str) -> None:
    if isinstance(stream, io.TextIOBase):
        stream.write(text)
    else:
        stream.write(text.encode("utf-8"))  # type: ignore[arg-type]
    stream.flush()


