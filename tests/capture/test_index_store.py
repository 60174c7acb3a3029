"""The stored frame index: used only when it is the capture's and intact, else rebuilt.

The oracle is `FrameIndex.build` on the capture as it is now (itself checked
against `open_capture` in test_index.py): whatever the store hands back must
equal a fresh build, column for column, and read the same frames.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.capture.index import COLUMNS, FrameIndex
from mipv6scope.capture.index_store import (
    BUILT,
    HEADER,
    REBUILT,
    REUSED,
    SUFFIX,
    VERSION,
    EntryRejected,
    IndexStore,
    capture_key,
    hashed_name,
    read_entry,
    write_entry,
)
from tests.capture.test_index import pcap_bytes, two_interface_pcapng
from tests.capture.test_pcapng_reader import epb, idb, shb

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


def same_as_fresh(index: FrameIndex, path: Path) -> None:
    """``index`` equals `FrameIndex.build(path)`: columns, interfaces, issues,
    format, size, and every frame it reads."""
    with FrameIndex.build(path) as fresh:
        assert len(index) == len(fresh)
        for name in COLUMNS:
            assert getattr(index, name) == getattr(fresh, name), name
            assert getattr(index, name).typecode == COLUMNS[name]
        assert index.interfaces == fresh.interfaces
        assert index.issues == fresh.issues
        assert (index.format, index.file_size) == (fresh.format, fresh.file_size)
        for i in range(len(fresh)):
            assert index.read_frame(i) == fresh.read_frame(i)


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "caps" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(SAMPLES / name, target)
    return target


@pytest.fixture
def pcapng(tmp_path: Path) -> Path:
    """A pcapng with interfaces of three link types over two sections, SPB and PB."""
    path = tmp_path / "caps" / "two.pcapng"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(two_interface_pcapng())
    return path


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    """The default places (beside the capture, else a cache directory under tmp_path)."""
    return IndexStore(cache_dir=tmp_path / "cache")


def open_twice(store: IndexStore, path: Path) -> None:
    """Store an index, then get it back from the entry (no walk) equal to a fresh build."""
    first = store.open(path)
    first.index.close()
    assert first.status == BUILT and first.entry == Path(f"{path}{SUFFIX}")
    assert first.entry_bytes == first.entry.stat().st_size
    second = store.open(path)
    with second.index:
        assert second.status == REUSED and second.entry == first.entry
        same_as_fresh(second.index, path)


@pytest.mark.parametrize("name", ["scenario-handoff.pcap", "scenario-fleet.pcap",
                                  "scenario-handoff-vlan.pcapng", "scenario-handoff-sll2.pcap"])
def test_round_trip_equals_a_fresh_build(tmp_path: Path, store: IndexStore, name: str) -> None:
    open_twice(store, copy(tmp_path, name))


def test_round_trip_keeps_the_capture_issues(tmp_path: Path, store: IndexStore) -> None:
    path = copy(tmp_path, "scenario-handoff-vlan.pcapng")
    path.write_bytes(path.read_bytes()[:-50])  # the last block cut short
    with FrameIndex.build(path) as fresh:
        assert fresh.issues  # what makes this capture worth the test
    open_twice(store, path)


def test_round_trip_of_a_pcapng_with_several_interfaces(store: IndexStore, pcapng: Path) -> None:
    open_twice(store, pcapng)
    with FrameIndex.build(pcapng) as fresh:
        assert len(fresh.interfaces) == 3  # what makes this capture worth the test


def test_an_entry_takes_26_bytes_a_frame_and_a_manifest(tmp_path: Path, store: IndexStore) -> None:
    path = copy(tmp_path, "scenario-handoff.pcap")
    opened = store.open(path)
    with opened.index as index:
        assert opened.entry_bytes <= 26 * len(index) + 5 * 64 + 2048
        assert opened.entry_bytes / len(index) <= 40


def test_the_index_is_not_read_from_the_capture_when_an_entry_is_valid(
        tmp_path: Path, store: IndexStore, monkeypatch: pytest.MonkeyPatch) -> None:
    path = copy(tmp_path, "scenario-handoff.pcap")
    store.open(path).index.close()

    def no_walk(*_args, **_kwargs):
        raise AssertionError("the capture was walked again")
    monkeypatch.setattr(FrameIndex, "build", no_walk)
    progress: list[tuple[int, int, int]] = []
    opened = store.open(path, progress=lambda *a: progress.append(a))
    with opened.index as index:
        assert opened.status == REUSED
        assert progress == [(len(index), path.stat().st_size, path.stat().st_size)]


# -- stale ------------------------------------------------------------------------------------

def rewrite(path: Path, data: bytes, keep_mtime: bool) -> None:
    """Write ``data`` over ``path``; with ``keep_mtime`` its mtime is put back,
    so only the size or the hash of head and tail can tell."""
    st = path.stat()
    path.write_bytes(data)
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def stale_then_rebuilt(store: IndexStore, path: Path, change) -> None:
    store.open(path).index.close()
    change(path)
    opened = store.open(path)
    with opened.index as index:
        assert opened.status == REBUILT and opened.reason is not None
        assert opened.reason.startswith("stale")
        same_as_fresh(index, path)
    again = store.open(path)  # the rebuilt entry replaced the stale one
    again.index.close()
    assert again.status == REUSED


def test_a_capture_appended_to_is_indexed_again(tmp_path: Path, store: IndexStore) -> None:
    def append(path: Path) -> None:
        data = path.read_bytes()
        first_record = data[24:24 + 16 + int.from_bytes(data[32:36], "little")]
        rewrite(path, data + first_record, keep_mtime=True)
    stale_then_rebuilt(store, copy(tmp_path, "scenario-handoff.pcap"), append)


def test_same_size_but_another_tail(tmp_path: Path, store: IndexStore) -> None:
    def flip_last_byte(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        rewrite(path, bytes(data), keep_mtime=True)
    stale_then_rebuilt(store, copy(tmp_path, "scenario-handoff.pcap"), flip_last_byte)


def test_same_size_but_another_head(tmp_path: Path, store: IndexStore) -> None:
    def new_first_timestamp(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[24:28] = struct.pack("<I", 1_800_000_000)  # the first record's seconds
        rewrite(path, bytes(data), keep_mtime=True)
    stale_then_rebuilt(store, copy(tmp_path, "scenario-handoff.pcap"), new_first_timestamp)


def test_a_capture_rewritten_with_the_same_bytes_but_a_new_mtime(tmp_path: Path,
                                                                 store: IndexStore) -> None:
    def touch(path: Path) -> None:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    stale_then_rebuilt(store, copy(tmp_path, "scenario-handoff.pcap"), touch)


def test_the_key_hashes_64_kib_at_each_end(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(bytes(300_000))
    before = capture_key(path)
    for where in (0, 65_535, 300_000 - 65_536, 299_999):
        data = bytearray(bytes(300_000))
        data[where] = 1
        rewrite(path, bytes(data), keep_mtime=False)
        os.utime(path, ns=(before.mtime_ns, before.mtime_ns))
        assert capture_key(path) != before, where
    data = bytearray(bytes(300_000))
    data[150_000] = 1  # the middle: not part of the key (documented)
    rewrite(path, bytes(data), keep_mtime=False)
    os.utime(path, ns=(before.mtime_ns, before.mtime_ns))
    assert capture_key(path) == before


# -- corrupt ----------------------------------------------------------------------------------

def stored(tmp_path: Path, store: IndexStore, pcapng: Path) -> tuple[Path, bytes]:
    opened = store.open(pcapng)
    opened.index.close()
    assert opened.entry is not None
    return opened.entry, opened.entry.read_bytes()


def rejected_then_rebuilt(store: IndexStore, path: Path, why: str) -> None:
    opened = store.open(path)
    with opened.index as index:
        assert opened.status == REBUILT, opened
        assert why in (opened.reason or ""), opened.reason
        same_as_fresh(index, path)


def test_every_single_flipped_byte_is_caught(tmp_path: Path, store: IndexStore,
                                             pcapng: Path) -> None:
    entry, good = stored(tmp_path, store, pcapng)
    key = capture_key(pcapng)
    for at in range(len(good)):
        bad = bytearray(good)
        bad[at] ^= 0x01
        entry.write_bytes(bytes(bad))
        with pytest.raises(EntryRejected):
            read_entry(entry, str(pcapng), key)
    entry.write_bytes(good)
    read_entry(entry, str(pcapng), key)[0].close()


def test_every_truncation_is_caught(tmp_path: Path, store: IndexStore, pcapng: Path) -> None:
    entry, good = stored(tmp_path, store, pcapng)
    key = capture_key(pcapng)
    for size in range(len(good)):
        entry.write_bytes(good[:size])
        with pytest.raises(EntryRejected, match="truncated|corrupt|not an index"):
            read_entry(entry, str(pcapng), key)
    entry.write_bytes(good + b"\0")
    with pytest.raises(EntryRejected, match="trailing"):
        read_entry(entry, str(pcapng), key)


def test_truncated_and_flipped_entries_are_rebuilt(tmp_path: Path, store: IndexStore,
                                                   pcapng: Path) -> None:
    entry, good = stored(tmp_path, store, pcapng)
    entry.write_bytes(good[:-7])
    rejected_then_rebuilt(store, pcapng, "truncated")
    bad = bytearray(entry.read_bytes())
    bad[-3] ^= 0x40  # in the last column
    entry.write_bytes(bytes(bad))
    rejected_then_rebuilt(store, pcapng, "digest")


def test_another_version_is_not_read(tmp_path: Path, store: IndexStore, pcapng: Path) -> None:
    entry, good = stored(tmp_path, store, pcapng)
    magic, version, manifest_len, digest = HEADER.unpack_from(good)
    assert version == VERSION
    entry.write_bytes(HEADER.pack(magic, VERSION + 1, manifest_len, digest) + good[HEADER.size:])
    rejected_then_rebuilt(store, pcapng, f"version {VERSION + 1}")


def test_garbage_and_an_empty_file_are_not_entries(tmp_path: Path, store: IndexStore,
                                                   pcapng: Path) -> None:
    entry, _good = stored(tmp_path, store, pcapng)
    entry.write_bytes(b"")
    rejected_then_rebuilt(store, pcapng, "truncated")
    entry.write_bytes(os.urandom(4096))
    rejected_then_rebuilt(store, pcapng, "not an index entry")


def tampered(path: Path, entry: Path, change) -> None:
    """Write an entry for ``path`` whose columns ``change(columns)`` altered,
    with a valid digest (as a buggy or hostile writer would)."""
    with FrameIndex.build(path) as index:
        change(index)
        write_entry(entry, index, capture_key(path))


@pytest.mark.parametrize(("change", "why"), [
    (lambda ix: ix.caplens.pop(), "unequal length"),
    (lambda ix: ix.ts.append(0.0), "unequal length"),
    (lambda ix: ix.offsets.__setitem__(-1, ix.file_size - 1), "past the end"),
    (lambda ix: ix.caplens.__setitem__(-1, ix.caplens[-1] + 64), "past the end"),
    (lambda ix: ix.offsets.__setitem__(1, ix.offsets[0]), "overlapping"),
    (lambda ix: ix.offsets.__setitem__(0, -5), "before the file"),
    (lambda ix: ix.offsets.__setitem__(-1, 2**63 - 10), "past the end"),  # + caplen overflows
    (lambda ix: ix.caplens.__setitem__(0, 1 << 31), "caplen above"),
    (lambda ix: ix.slots.__setitem__(0, 3), "undefined interface"),
    (lambda ix: ix.ts.__setitem__(1, float("nan")), "not finite"),
])
def test_inconsistent_columns_are_rebuilt(tmp_path: Path, store: IndexStore, pcapng: Path,
                                          change, why: str) -> None:
    entry, _good = stored(tmp_path, store, pcapng)
    tampered(pcapng, entry, change)
    rejected_then_rebuilt(store, pcapng, why)


def parse_entry(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """The manifest and each column's bytes, read by the layout the module documents."""
    import numpy as np

    magic, _version, manifest_len, _digest = HEADER.unpack_from(data)
    assert magic == b"MIP6IDX\0"
    manifest = json.loads(data[HEADER.size:HEADER.size + manifest_len])
    position, columns = HEADER.size + manifest_len, {}
    for name, dtype, _values in manifest["columns"]:
        position += -position % 64
        size = manifest["frames"] * np.dtype(dtype).itemsize
        columns[name] = data[position:position + size]
        position += size
    assert position == len(data)
    return manifest, columns


def make_entry(manifest: dict, columns: dict[str, bytes]) -> bytes:
    """An entry with the documented layout and a valid digest (the columns the
    manifest lists, from ``columns``)."""
    import hashlib

    raw = json.dumps(manifest, separators=(",", ":")).encode()
    body = bytearray(raw)
    for name, _dtype, _values in manifest["columns"]:
        body += b"\0" * (-(HEADER.size + len(body)) % 64) + columns[name]
    manifest_len = len(raw)
    digest = hashlib.blake2b(bytes(body), digest_size=32).digest()
    return HEADER.pack(b"MIP6IDX\0", VERSION, manifest_len, digest) + bytes(body)


def rewrite_manifest(entry: Path, edit) -> None:
    """Re-write ``entry`` with its manifest edited by ``edit`` and the digest made valid."""
    manifest, columns = parse_entry(entry.read_bytes())
    edit(manifest)
    entry.write_bytes(make_entry(manifest, columns))


@pytest.mark.parametrize(("edit", "why"), [
    (lambda m: m["columns"].pop(), "no column slots"),
    (lambda m: [m.update(frames=m["frames"] + 1)] + [c.__setitem__(2, c[2] + 1)
                                                     for c in m["columns"]], "truncated"),
    (lambda m: m.update(format="erf"), "format"),
    (lambda m: m["interfaces"].pop(), "undefined interface"),
    (lambda m: m.update(issues=[["x"]]), "issues"),
    (lambda m: m["key"].update(size=m["key"]["size"] + 1), "stale"),
    (lambda m: m["columns"][0].__setitem__(1, "<f2"), "corrupt manifest"),
    (lambda m: m["columns"][1].__setitem__(2, m["frames"] - 1), "unequal length"),
])
def test_a_manifest_that_does_not_add_up_is_rebuilt(tmp_path: Path, store: IndexStore,
                                                    pcapng: Path, edit, why: str) -> None:
    entry, good = stored(tmp_path, store, pcapng)
    assert make_entry(*parse_entry(good)) == good  # the test's writer agrees with the store's
    rewrite_manifest(entry, edit)
    rejected_then_rebuilt(store, pcapng, why)


def test_columns_a_reader_does_not_know_are_ignored(tmp_path: Path, store: IndexStore,
                                                    pcapng: Path) -> None:
    """How the store grows: an entry with one more column still serves today's reader."""
    entry, good = stored(tmp_path, store, pcapng)
    manifest, columns = parse_entry(good)
    manifest["columns"].insert(2, ["needs_decode", "|u1", manifest["frames"]])
    columns["needs_decode"] = bytes([1]) * manifest["frames"]
    entry.write_bytes(make_entry(manifest, columns))
    opened = store.open(pcapng)
    with opened.index as index:
        assert opened.status == REUSED
        same_as_fresh(index, pcapng)


# -- where entries go -------------------------------------------------------------------------

def test_a_symlink_at_the_entry_path_is_neither_written_through_nor_read(
        tmp_path: Path, store: IndexStore, pcapng: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    beside = Path(f"{pcapng}{SUFFIX}")
    beside.symlink_to(victim)
    opened = store.open(pcapng)
    opened.index.close()
    assert victim.read_bytes() == b"keep me" and beside.is_symlink()
    assert opened.entry == store.cache_dir / hashed_name(pcapng)  # went to the cache instead
    # a symlink to a valid entry is not followed either
    beside.unlink()
    beside.symlink_to(opened.entry)
    assert read_entry_reason(store, pcapng).startswith("a symlink")


def read_entry_reason(store: IndexStore, path: Path) -> str:
    try:
        read_entry(Path(f"{path}{SUFFIX}"), str(path), capture_key(path))
    except EntryRejected as exc:
        return str(exc)
    return "used"


def test_a_failed_write_falls_back_to_the_cache_directory(tmp_path: Path, store: IndexStore,
                                                          pcapng: Path) -> None:
    Path(f"{pcapng}{SUFFIX}").mkdir()  # a write there fails (a directory is in the way)
    opened = store.open(pcapng)
    with opened.index as index:
        assert opened.status == REBUILT and opened.reason == "not a regular file"
        assert opened.store_error is None
        assert opened.entry == store.cache_dir / hashed_name(pcapng)
        same_as_fresh(index, pcapng)
    assert store.open(pcapng).status == REUSED
    assert not [p for p in pcapng.parent.iterdir() if p.name.endswith(".tmp")]


def test_no_place_to_write_is_no_error(tmp_path: Path, pcapng: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    store = IndexStore(cache_dir=tmp_path / "file" / "cache")  # cannot be created
    Path(f"{pcapng}{SUFFIX}").mkdir()
    opened = store.open(pcapng)
    with opened.index as index:
        assert opened.entry is None and opened.store_error
        same_as_fresh(index, pcapng)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_directory_sends_the_entry_to_the_cache(tmp_path: Path, store: IndexStore,
                                                            pcapng: Path) -> None:
    pcapng.parent.chmod(0o555)
    try:
        opened = store.open(pcapng)
        opened.index.close()
        assert opened.entry == store.cache_dir / hashed_name(pcapng)
        assert store.open(pcapng).status == REUSED
    finally:
        pcapng.parent.chmod(0o755)


def test_an_index_directory_holds_every_entry(tmp_path: Path, pcapng: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIPV6SCOPE_INDEX_DIR", str(tmp_path / "chosen"))
    store = IndexStore.from_env()
    other = tmp_path / "elsewhere" / pcapng.name  # the same name in another directory
    other.parent.mkdir()
    other.write_bytes(pcapng.read_bytes()[:-8])
    first, second = store.open(pcapng), store.open(other)
    first.index.close()
    second.index.close()
    assert first.entry != second.entry
    assert {first.entry.parent, second.entry.parent} == {tmp_path / "chosen"}
    assert not Path(f"{pcapng}{SUFFIX}").exists()
    assert IndexStore.from_env(tmp_path / "flag").directory == tmp_path / "flag"


def test_a_capture_changed_while_indexed_is_not_stored(tmp_path: Path, store: IndexStore,
                                                       pcapng: Path) -> None:
    key = capture_key(pcapng)
    with FrameIndex.build(pcapng) as index:
        with pcapng.open("ab") as f:
            f.write(b"\0" * 8)
        saved, why = store.save(index, key)
    assert saved is None and "changed" in (why or "")
    assert not Path(f"{pcapng}{SUFFIX}").exists()


def test_a_missing_capture_is_the_builds_error(tmp_path: Path, store: IndexStore) -> None:
    from mipv6scope.capture import CaptureError

    with pytest.raises(CaptureError):
        store.open(tmp_path / "nothing.pcap")


# -- generated captures -----------------------------------------------------------------------

def reused_equals_fresh(tmp_path: Path, path: Path) -> None:
    """Store, then load: REUSED and equal to a fresh build (never rejected: a
    valid entry must not be refused for what its capture holds)."""
    store = IndexStore(tmp_path / "gen-store")
    store.open(path, save=True).index.close()
    opened = store.open(path)
    with opened.index as index:
        assert opened.status == REUSED, opened.reason
        same_as_fresh(index, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 999_999),
                                  st.binary(max_size=200)), max_size=10),
       order=st.sampled_from("<>"), cut=st.integers(0, 30))
def test_generated_pcaps_round_trip(tmp_path: Path, records: list[tuple[int, int, bytes]],
                                    order: str, cut: int) -> None:
    blob = pcap_bytes(records, order=order)
    path = tmp_path / "gen.pcap"
    path.write_bytes(blob[:len(blob) - cut] if len(blob) - cut >= 24 else blob)
    reused_equals_fresh(tmp_path, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=400), order=st.sampled_from("<>"))
def test_random_pcapng_tails_round_trip(tmp_path: Path, tail: bytes, order: str) -> None:
    path = tmp_path / "fuzz.pcapng"
    path.write_bytes(shb(order) + idb(1, order=order) + epb(0, 1, bytes(20), order=order) + tail)
    reused_equals_fresh(tmp_path, path)


def test_a_fifo_has_no_key(tmp_path: Path) -> None:
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)  # nobody writes to it: opening it to read would wait forever
    with pytest.raises(OSError, match="not a regular file"):
        capture_key(fifo)
