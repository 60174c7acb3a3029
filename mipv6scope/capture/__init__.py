"""Capture reading: pcap/pcapng/gzip files and link-layer framing."""
