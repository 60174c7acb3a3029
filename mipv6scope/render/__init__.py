"""Renderers: turn decoded frames and reports into text, JSON and CSV. Never decode."""
