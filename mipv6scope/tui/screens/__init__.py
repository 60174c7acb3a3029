"""The TUI's screens, one per module: the main screen, findings, help, go to frame."""
