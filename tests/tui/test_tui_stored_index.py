"""The terminal UI opens a capture from its stored frame index (no walk of the
file), stores the index it builds, and writes nothing when told not to."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.widgets import Label  # noqa: E402

from mipv6scope.capture import index_store  # noqa: E402
from mipv6scope.capture.index import COLUMNS, FrameIndex  # noqa: E402
from mipv6scope.capture.index_store import REUSED, IndexStore, capture_key, read_entry  # noqa: E402
from mipv6scope.cli.main import main  # noqa: E402
from mipv6scope.tui import app as tui_app  # noqa: E402
from mipv6scope.tui.app import MobilityApp  # noqa: E402
from mipv6scope.tui.screenshot import until  # noqa: E402
from mipv6scope.tui.widgets.packet_panes import PacketPanes  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
SIZE = (120, 40)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "caps" / "handoff.pcap"
    path.parent.mkdir()
    shutil.copyfile(SAMPLES / "scenario-handoff.pcap", path)
    return path


def open_app(app: MobilityApp, condition, check=lambda main: None) -> None:
    """Run ``app`` headless until ``condition(app)`` holds, ``check`` its main
    screen, then quit."""
    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: condition(app))
            check(app.main)
            await pilot.press("q")
    asyncio.run(run())


def index_label(main) -> str:
    return str(main.query_one("#index-label", Label).render())


def panes_up(app: MobilityApp) -> bool:
    return app.main.source is not None and bool(app.main.query(PacketPanes))


def index_work_done(app: MobilityApp) -> bool:
    return panes_up(app) and not any(w.group == "index" and w.is_running for w in app.workers)


def test_a_stored_index_is_opened_without_reading_the_capture(
        capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = IndexStore(tmp_path / "store")
    store.open(capture).index.close()
    with FrameIndex.build(capture) as fresh:
        expected = {name: getattr(fresh, name) for name in COLUMNS}

    def no_walk(*_args, **_kwargs):
        raise AssertionError("the capture was indexed again")
    monkeypatch.setattr(FrameIndex, "build", no_walk)
    def check(main) -> None:
        assert [o.status for o in main.source.opened] == [REUSED]
        assert {name: getattr(main.source.index, name) for name in COLUMNS} == expected
        assert index_label(main) == "loaded"
    open_app(MobilityApp([str(capture)], index_store=store), panes_up, check)


def test_the_index_built_is_stored_and_used_next_time(
        capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_store, "IMPLICIT_MIN_BYTES", 0)  # the sample is small
    store = IndexStore(tmp_path / "store")
    (entry,) = store.locations(capture)
    def built(main) -> None:
        assert index_label(main) == "indexed"
    open_app(MobilityApp([str(capture)], index_store=store),
             lambda app: panes_up(app) and entry.exists(), built)
    read_entry(entry, str(capture), capture_key(capture))[0].close()  # valid

    def reused(main) -> None:
        assert [o.status for o in main.source.opened] == [REUSED]
    open_app(MobilityApp([str(capture)], index_store=store), panes_up, reused)


def test_small_captures_and_no_index_store_write_nothing(capture: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = IndexStore(tmp_path / "store")
    app = MobilityApp([str(capture)], index_store=store)  # below IMPLICIT_MIN_BYTES
    open_app(app, index_work_done)
    monkeypatch.setattr(index_store, "IMPLICIT_MIN_BYTES", 0)
    app = MobilityApp([str(capture)], index_store=store, save_index=False)
    open_app(app, index_work_done)
    assert not (tmp_path / "store").exists()
    assert sorted(p.name for p in capture.parent.iterdir()) == [capture.name]


class FakeApp:
    """Stands in for MobilityApp: records what the command hands it."""

    made: list[FakeApp] = []

    def __init__(self, paths, options, index_store=None, save_index=True) -> None:
        self.paths, self.index_store, self.save_index = paths, index_store, save_index
        self.return_code = 0
        FakeApp.made.append(self)

    def run(self) -> None:
        pass


@pytest.mark.parametrize(("args", "directory", "save"), [
    ([], None, True),
    (["--no-index-store"], None, False),
    (["--index-dir", "DIR"], "DIR", True),
])
def test_the_tui_command_passes_the_index_options(
        capture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        directory: str | None, save: bool) -> None:
    monkeypatch.delenv("MIPV6SCOPE_INDEX_DIR", raising=False)
    monkeypatch.setattr(tui_app, "MobilityApp", FakeApp)
    FakeApp.made.clear()
    args = [str(tmp_path / a) if a == "DIR" else a for a in args]
    with pytest.raises(SystemExit) as info:
        main(["tui", *args, str(capture)])
    assert info.value.code == 0
    (made,) = FakeApp.made
    assert made.save_index is save
    assert made.index_store is not None
    wanted = None if directory is None else tmp_path / directory
    assert made.index_store.directory == wanted
