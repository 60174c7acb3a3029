"""The background work's progress: indexing and analysis, with rates and time left."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


def rate_text(frames: int, done: int, total: int, elapsed_s: float) -> str:
    """``12,345 frames  45,000 frames/s  2 s left`` (rate and time left once measurable)."""
    text = f"{frames:,} frames"
    if elapsed_s > 0 and frames:
        text += f"  {frames / elapsed_s:,.0f} frames/s"
    if elapsed_s > 0 and 0 < done < total:
        text += f"  {(total - done) * elapsed_s / done:,.0f} s left"
    return text


def bytes_text(done: int, total: int, elapsed_s: float) -> str:
    """``3.2 of 10.0 MB  5 s left``."""
    text = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
    if elapsed_s > 0 and 0 < done < total:
        text += f"  {(total - done) * elapsed_s / done:,.0f} s left"
    return text


class LoadProgress(Horizontal):
    """One line while the capture is indexed and analysed; hidden when both are done."""

    DEFAULT_CSS = """
    LoadProgress { height: 1; background: $boost; }
    LoadProgress Label { padding: 0 1; }
    LoadProgress ProgressBar { width: 24; }
    LoadProgress ProgressBar Bar { width: 16; }
    LoadProgress.-done { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.done: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Label("indexing", id="index-label")
        yield ProgressBar(total=None, show_eta=False, id="index-bar")
        yield Label("", id="index-text")
        yield Label("analysing", id="analysis-label")
        yield ProgressBar(total=None, show_eta=False, id="analysis-bar")
        yield Label("", id="analysis-text")

    def index_progress(self, frames: int, done: int, total: int, elapsed_s: float) -> None:
        """The index has ``frames`` frames, ``done`` of ``total`` bytes."""
        self.query_one("#index-bar", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#index-text", Label).update(rate_text(frames, done, total, elapsed_s))

    def index_done(self, frames: int, elapsed_s: float, loaded: bool = False) -> None:
        """Indexing finished (``loaded``: the index came from a stored entry)."""
        self.query_one("#index-bar", ProgressBar).update(total=1, progress=1)
        self.query_one("#index-label", Label).update("loaded" if loaded else "indexed")
        self.query_one("#index-text", Label).update(rate_text(frames, 1, 1, elapsed_s))
        self._finished("index")

    def analysis_progress(self, done: int, total: int, elapsed_s: float) -> None:
        """The analysis read ``done`` of ``total`` bytes."""
        self.query_one("#analysis-bar", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#analysis-text", Label).update(bytes_text(done, total, elapsed_s))

    def analysis_done(self, elapsed_s: float) -> None:
        """The analysis finished."""
        self.query_one("#analysis-bar", ProgressBar).update(total=1, progress=1)
        self.query_one("#analysis-label", Label).update("analysed")
        self.query_one("#analysis-text", Label).update(f"in {elapsed_s:.1f} s")
        self._finished("analysis")

    def _finished(self, what: str) -> None:
        self.done.add(what)
        if self.done >= {"index", "analysis"}:
            self.add_class("-done")
