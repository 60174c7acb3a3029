"""mipv6scope: analyzer and visualizer for Mobile IPv6 packet captures."""

__version__ = "0.1.0"
