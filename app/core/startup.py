"""Start-up failures that end in one clear line instead of a traceback.

The checks themselves live with what they check (`app/db/connect.py` for the database); the
entry points (`app.main`, `app.cli`) catch this one error and print its message.
"""


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line to show."""
