"""Decoding: the only package that touches dpkt. Frames in, DecodedFrame out."""
