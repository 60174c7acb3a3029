"""Files `synth -o` and `samples` write (issue 11, section 5): written to a
temporary file and renamed, never over an existing file without --force,
never through a symlink, nothing left behind on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from mipv6scope.outfile import ExistsRefused, SymlinkRefused, atomic_path, write_atomic
from mipv6scope.synth.writer import write_capture


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- synth -o ---------------------------------------------------------------------------------

def test_synth_refuses_an_existing_capture_without_force(tmp_path: Path) -> None:
    out = tmp_path / "h.pcap"
    out.write_bytes(b"mine")
    result = invoke("synth", "handoff", "-o", str(out))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "--force" in lines[0]
    assert out.read_bytes() == b"mine" and names(tmp_path) == ["h.pcap"]


def test_synth_refuses_an_existing_truth_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "h.pcap"
    truth = tmp_path / "h.pcap.truth.json"
    truth.write_text("mine")
    result = invoke("synth", "handoff", "-o", str(out))
    assert result.exit_code == 1 and str(truth) in result.output and "--force" in result.output
    assert truth.read_text() == "mine" and not out.exists()


def test_synth_force_replaces_both_keeping_mode(tmp_path: Path) -> None:
    out = tmp_path / "h.pcap"
    out.write_bytes(b"mine")
    out.chmod(0o640)
    (tmp_path / "h.pcap.truth.json").write_text("mine")
    result = invoke("synth", "handoff", "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1" and out.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "h.pcap.truth.json").read_text().startswith("{")
    assert names(tmp_path) == ["h.pcap", "h.pcap.truth.json"]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("linked", ["h.pcap", "h.pcap.truth.json"])
def test_synth_never_writes_through_a_symlink(tmp_path: Path, force: bool, linked: str) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me")
    (tmp_path / linked).symlink_to(target)
    result = invoke("synth", "handoff", "-o", str(tmp_path / "h.pcap"), *(["--force"] if force else []))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "symlink" in lines[0] and linked in lines[0]
    assert target.read_text() == "keep me" and (tmp_path / linked).is_symlink()
    assert names(tmp_path) == sorted(["precious", linked])


def test_synth_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "h.pcap").symlink_to(tmp_path / "nowhere")
    result = invoke("synth", "handoff", "-o", str(tmp_path / "h.pcap"))
    assert result.exit_code == 1 and "symlink" in result.output
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_synth_into_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = invoke("synth", "handoff", "-o", str(folder / "h.pcap"))
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1 and "cannot write" in result.output
        assert names(folder) == []
    finally:
        folder.chmod(0o755)


def test_synth_into_an_unwritable_folder_as_any_user(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only folder case for root too: creating the temporary file fails."""
    def refuse(*_args: object, dir: str | None = None, **_kwargs: object) -> tuple[int, str]:  # noqa: A002
        raise PermissionError(13, "Permission denied", dir)

    monkeypatch.setattr("mipv6scope.outfile.tempfile.mkstemp", refuse)
    result = invoke("synth", "handoff", "-o", str(tmp_path / "h.pcap"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"mipv6scope synth: cannot write {tmp_path / 'h.pcap'}: Permission denied"]
    assert names(tmp_path) == []


def test_synth_into_a_missing_folder(tmp_path: Path) -> None:
    result = invoke("synth", "handoff", "-o", str(tmp_path / "no" / "h.pcap"))
    assert result.exit_code == 1 and "cannot write" in result.output
    assert "Traceback" not in result.output and names(tmp_path) == []


def test_a_failed_synth_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mipv6scope.synth.run as run

    real = run.write_truth

    def broken(path: Path, document: dict) -> None:
        real(path, document)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run, "write_truth", broken)
    out = tmp_path / "h.pcap"
    result = invoke("synth", "handoff", "-o", str(out))
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert names(tmp_path) == []  # neither the capture nor a temporary file


# -- outfile ----------------------------------------------------------------------------------

def test_write_atomic_refuses_symlinks_and_existing_files_without_force(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.write_text("old")
    link = tmp_path / "l"
    link.symlink_to(target)
    with pytest.raises(SymlinkRefused) as info:
        write_atomic(link, b"new")
    assert isinstance(info.value, OSError) and "symlink" in (info.value.strerror or "")
    with pytest.raises(ExistsRefused):
        write_atomic(target, b"new", force=False)
    write_atomic(target, b"new")
    assert target.read_text() == "new" and names(tmp_path) == ["l", "t"]


def test_atomic_path_removes_the_temporary_file_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert names(tmp_path) == []


def test_write_capture_is_atomic_and_refuses_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.write_text("old")
    (tmp_path / "c.pcap").symlink_to(target)
    with pytest.raises(SymlinkRefused):
        write_capture(tmp_path / "c.pcap", [(0.0, b"\x00" * 60, None)], 1)
    assert target.read_text() == "old"
    assert write_capture(tmp_path / "d.pcap", [(0.0, b"\x00" * 60, None)], 1) == 1
    assert sorted(names(tmp_path)) == ["c.pcap", "d.pcap", "t"]


# -- samples ----------------------------------------------------------------------------------

def test_samples_refuses_a_folder_that_is_not_a_samples_folder(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# my project\n")
    result = invoke("samples", str(tmp_path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not a samples folder" in lines[0] and "--force" in lines[0]
    assert names(tmp_path) == ["README.md"] and (tmp_path / "README.md").read_text() == "# my project\n"


def test_samples_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    result = invoke("samples", str(tmp_path / "link"))
    assert result.exit_code == 1 and "symlink" in result.output and names(real) == []


def test_samples_never_writes_through_a_symlinked_file(tmp_path: Path) -> None:
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "README.md").write_text("# Sample captures\n")
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    (folder / "mh-bu.pcap").symlink_to(precious)
    result = invoke("samples", str(folder))
    assert result.exit_code == 1
    assert "mh-bu.pcap" in result.output and "symlink" in result.output
    assert "Traceback" not in result.output
    assert precious.read_text() == "keep me" and (folder / "mh-bu.pcap").is_symlink()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
