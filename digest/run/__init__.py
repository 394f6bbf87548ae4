"""The run: the main job (merge subscribers → ingest → for each segment compose, render,
record, send), recording editions under locks, resuming sends, previews and the scheduler.

The commands and the web app call in here; the stages beneath never call back up.
"""
