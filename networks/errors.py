"""The one error type for input a user can fix (exit status 2 at the command line)."""


class ConfigError(ValueError):
    """Bad user input: one line naming the field and the value."""
