"""Recompute every reward from the history in bulk: read once, replay in memory with the
rules' own pure functions, write once (``replay.recompute``)."""
