"""One error root; the CLI turns every ProtokollsokError into one line and exit code 1."""

from __future__ import annotations


class ProtokollsokError(Exception):
    """Root of every error a user can cause. ``str()`` is the one line shown to the user."""

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what} — {fix}" if fix else what)


class ParseError(ProtokollsokError):
    """A file could not be read or understood."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexNotFound(ProtokollsokError):
    """No index where one was expected."""

    def __init__(self, index_dir: str) -> None:
        super().__init__(
            f"no index in {index_dir}/",
            "run `protokollsok index corpus/` first (or pass --index DIR)",
        )


class IndexLocked(ProtokollsokError):
    """Another process is writing the index."""


class QueryError(ProtokollsokError):
    """A query or filter that cannot be understood."""


class NoText(ParseError):
    """A readable file with no text to index (an image-only PDF, an empty document).

    Reported as a skipped file with a warning, not as a failure.
    """
