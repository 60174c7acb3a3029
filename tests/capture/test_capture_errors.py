"""Files that are not readable captures: one-line CaptureError messages."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import pytest

from mipv6scope.capture import CaptureError, CaptureReader, open_capture


def pcap_header(network: int = 1, magic: int = 0xA1B2C3D4, major: int = 2) -> bytes:
    return struct.pack("<IHHiIII", magic, major, 4, 0, 0, 65535, network)


def error_for(path: Path | str) -> str:
    with pytest.raises(CaptureError) as info:
        open_capture(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    # no chained exception that a traceback printer would show
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    return message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pcap"
    assert error_for(path) == f"No such file: {path}"


def test_directory(tmp_path: Path) -> None:
    assert error_for(tmp_path) == f"{tmp_path} is a directory, not a capture file"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.pcap", pcap_header())
    path.chmod(0)
    assert error_for(path) == f"Permission denied: {path}"


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.pcap", b"")
    assert error_for(path) == f"{path} is empty"


def test_html_file(tmp_path: Path) -> None:
    path = write(tmp_path, "page.pcap", b"<html><body>404</body></html>\n")
    assert error_for(path) == f"{path} is not a pcap or pcapng capture (starts with 3c 68 74 6d)"


def test_tiny_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny", b"\xd4\xc3")
    assert error_for(path) == f"{path} is not a pcap or pcapng capture (starts with d4 c3)"


def test_gzip_of_text(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.gz", gzip.compress(b"hello world"))
    assert error_for(path) == (f"{path} is not a pcap or pcapng capture "
                               "(gzip-compressed, decompressed data starts with 68 65 6c 6c)")


def test_empty_and_broken_gzip(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.gz", gzip.compress(b""))
    assert error_for(empty) == f"{empty} is an empty gzip file"
    broken = write(tmp_path, "broken.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 40)
    assert error_for(broken).startswith(f"{broken}: cannot decompress: ")


def test_unsupported_pcap_link_type(tmp_path: Path) -> None:
    path = write(tmp_path, "usb.pcap", pcap_header(network=147) + bytes(16))
    message = error_for(path)
    assert message.startswith(f"{path}: unsupported link type 147 (supported: ")
    assert "1 ethernet" in message and "276 sll2" in message


def test_unsupported_link_type_in_big_endian_nanosecond_pcap(tmp_path: Path) -> None:
    header = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 195)
    path = write(tmp_path, "zigbee.pcap", header)
    assert "unsupported link type 195 " in error_for(path)


def test_truncated_pcap_header(tmp_path: Path) -> None:
    path = write(tmp_path, "short.pcap", pcap_header()[:20])
    assert error_for(path) == f"{path}: pcap file header truncated (20 of 24 bytes)"


def test_unsupported_pcap_version(tmp_path: Path) -> None:
    path = write(tmp_path, "v3.pcap", pcap_header(major=3))
    assert error_for(path) == f"{path}: unsupported pcap version 3.4"


def test_pcapng_section_header_problems(tmp_path: Path) -> None:
    good = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    short = write(tmp_path, "short.pcapng", good[:20])
    assert error_for(short) == f"{short}: pcapng section header truncated (20 of 28 bytes)"
    bad_bom = write(tmp_path, "bom.pcapng", good[:8] + b"\x01\x02\x03\x04" + good[12:])
    assert error_for(bad_bom) == (f"{bad_bom}: corrupt pcapng section header "
                                  "(bad byte-order magic 01020304)")
    huge = write(tmp_path, "huge.pcapng", good[:4] + b"\xf0\xff\xff\x7f" + good[8:])
    assert "impossible block length" in error_for(huge)
    v2 = write(tmp_path, "v2.pcapng", good[:12] + b"\x02\x00" + good[14:])
    assert error_for(v2) == f"{v2}: unsupported pcapng version 2.0"


def test_path_with_newline_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "two\nlines.pcap"
    assert "\n" not in error_for(path)


def test_reader_is_a_context_manager_and_closes(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.pcap", pcap_header() + struct.pack("<IIII", 1, 2, 3, 3) + b"abc")
    with open_capture(path) as reader:
        assert isinstance(reader, CaptureReader)
        assert (reader.path, reader.format, reader.compressed) == (str(path), "pcap", False)
    assert list(reader) == []  # closed: nothing more to read, and no issue for it
    assert reader.issues == []


def test_close_ends_iteration_midway(tmp_path: Path) -> None:
    record = struct.pack("<IIII", 1, 2, 3, 3) + b"abc"
    path = write(tmp_path, "ok.pcap", pcap_header() + record * 5)
    reader = open_capture(path)
    frames = iter(reader)
    assert next(frames).number == 1
    reader.close()
    assert list(frames) == [] and reader.issues == []


def test_permission_denied_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check as above for when the tests run as root: a refused open()."""
    from mipv6scope.capture import reader as reader_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    path = write(tmp_path, "secret.pcap", pcap_header())
    monkeypatch.setattr(reader_module, "open", refuse, raising=False)
    assert error_for(path) == f"Permission denied: {path}"
