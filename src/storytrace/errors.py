"""The exceptions storytrace raises. Bad *input* never raises: it becomes an `InputError` record
(a file that cannot be read, a malformed row); a path that names nothing, or an output directory
that cannot be written, is a mistake in the call and raises before any work is done."""


class StorytraceError(Exception):
    """Base of every error storytrace raises on purpose."""


class ConfigError(StorytraceError, ValueError):
    """An option or argument that cannot work (e.g. a threshold outside 0..1)."""


class MissingExtraError(StorytraceError, ImportError):
    """An optional feature whose extra is not installed; the message says what to install."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'storytrace[{extra}]'")


class InputPathError(StorytraceError, FileNotFoundError):
    """An input named by path that does not exist (a typo): raised before any work."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no such file or directory: {path}")
        self.path = path


class OutputError(StorytraceError, OSError):
    """An output directory that cannot be used: a file, not writable, holding the inputs or
    other files, or being written by another run."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"--out {path}: {reason}")
        self.path = path
        self.reason = reason
