"""One log line when something the server depends on starts failing, one when it answers again.

A dependency that is down fails every attempt: the refresher's poll several times a second, the
rate limiter's storage on every write. Logged per attempt, an outage buries the log (hundreds of
identical lines a second); logged per outage, it says when it began, why, and when it ended.
"""

import logging


class OutageLog:
    """Whether `what` is failing now, logged at its transitions only: the first failure of an
    outage is a WARNING naming the error, the first success after it an INFO line."""

    def __init__(self, logger: logging.Logger, what: str, meanwhile: str = "") -> None:
        self.logger = logger
        self.what = what
        self.meanwhile = meanwhile
        """What the server does until it answers, said on the first line."""
        self.failing = False

    def failed(self, error: object) -> None:
        if not self.failing:
            self.failing = True
            meanwhile = f" ({self.meanwhile})" if self.meanwhile else ""
            self.logger.warning("%s failed%s: %s", self.what, meanwhile, error)

    def answered(self) -> None:
        if self.failing:
            self.failing = False
            self.logger.info("%s works again", self.what)
