"""The exceptions storytrace raises. Bad *input* never raises: it becomes an `InputError` record."""


class StorytraceError(Exception):
    """Base of every error storytrace raises on purpose."""


class ConfigError(StorytraceError, ValueError):
    """An option or argument that cannot work (e.g. a threshold outside 0..1)."""


class MissingExtraError(StorytraceError, ImportError):
    """An optional feature whose extra is not installed; the message says what to install."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'storytrace[{extra}]'")
