"""How long one session may be: the minutes asked, kept short in the acute phase.

Source 000's "three times per day" was written for four short exercises (about 8 minutes), so
an acute-phase session is at most `SHORT_SESSION_MINUTES` (a design choice, `acute-session-length`
in the rules registry), done three times a day; a longer session is done once a day.
"""

from app.domain.routines.profile import Phase, Profile

SHORT_SESSION_MINUTES = 15


def session_minutes(profile: Profile) -> int:
    if profile.phase is Phase.acute:
        return min(profile.minutes, SHORT_SESSION_MINUTES)
    return profile.minutes


def is_short(minutes: int) -> bool:
    return minutes <= SHORT_SESSION_MINUTES
