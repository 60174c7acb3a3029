"""An independent oracle for the RFC 6275 analysis rules (issue 10).

Every capture here is built with Scapy (not the project's encoder) in
``captures.py``; every expected answer is written by hand from RFC 6275 (or the
seed chapter) in the test that asserts it, with the sentence it rests on. Each
test also asks tshark whether the capture holds what its builder meant to
build, so a failure points at the analysis, never at the capture.
"""
