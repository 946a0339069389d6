"""The chat page's pieces: pure functions from state vars to `rx.Component`s (no behaviour here)."""
