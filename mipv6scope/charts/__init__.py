"""Plotly charts of Mobile IPv6 handoffs: pure figure builders (report in,
``plotly.graph_objects.Figure`` out) and the writers in ``export`` (HTML, JSON,
and static SVG/PNG/PDF through kaleido and the system Chromium)."""
