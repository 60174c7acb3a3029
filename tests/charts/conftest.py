"""Chart test fixtures: one headless Chromium and one kaleido exporter for the
whole session (each start costs a second or two), skipped without a browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mipv6scope.charts.export import StaticExporter
from tests.charts.browser import HeadlessChromium, skip_without_chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[HeadlessChromium]:
    """A running headless Chromium; ``chromium.open(html, w, h)`` gives a PageView."""
    with HeadlessChromium(skip_without_chromium()) as browser:
        yield browser


@pytest.fixture(scope="session")
def static_exporter() -> Iterator[StaticExporter]:
    """A running kaleido exporter, for ``write_static(..., exporter=...)``."""
    with StaticExporter(skip_without_chromium()) as exporter:
        yield exporter
