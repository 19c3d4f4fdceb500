"""The one error type for input a user can fix (exit status 2 at the command line)."""


class ConfigError(ValueError):
    """Bad user input: one line naming the field and the value."""


def user_input(check, *args):
    """Call a network-level validator on user input: its ValueError is a ConfigError."""
    try:
        return check(*args)
    except ValueError as e:
        raise ConfigError(str(e)) from None
