"""FilterError: what a bad display filter expression raises."""

from __future__ import annotations


class FilterError(ValueError):
    """A display filter expression that cannot be parsed or compiled.

    ``message`` is one line; ``position`` the 0-based offset in the expression
    where the problem is (``length`` characters long, at least 1). ``str()`` is
    the message alone, one line; `caret` adds the expression with a caret under
    the position, as tshark does.
    """

    def __init__(self, message: str, position: int = 0, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.position = max(0, position)
        self.length = max(1, length)

    def __str__(self) -> str:
        return self.message

    def caret(self, text: str) -> str:
        """``text`` on one line and ``^~~`` under the offending part on the next."""
        flat = "".join(c if c.isprintable() else " " for c in text)
        pos = min(self.position, len(flat))
        width = max(1, min(self.length, len(flat) - pos))
        return f"{flat}\n{' ' * pos}^{'~' * (width - 1)}"
