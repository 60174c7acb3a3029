"""Generating captures: packet builders on the project's own dpkt layers,
deterministic pcap writing, and the bundled sample captures."""
