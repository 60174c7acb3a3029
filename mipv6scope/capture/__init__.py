"""Capture reading: pcap/pcapng/gzip files and link-layer framing."""

from .frame import CaptureError, CaptureIssue, Frame
from .link import LinkResult, network_layer
from .reader import CaptureReader, open_capture

__all__ = [
    "CaptureError",
    "CaptureIssue",
    "CaptureReader",
    "Frame",
    "LinkResult",
    "network_layer",
    "open_capture",
]
