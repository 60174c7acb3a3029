"""Analysis: one pass over mobility events, one analyzer per concern."""
