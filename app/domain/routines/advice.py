"""The words around a routine: how often to do it, the safety notes, and the sources cited."""

from collections.abc import Iterable, Mapping

from app.domain.exercise import Source
from app.domain.routines.model import Frequency, SourceCitation
from app.domain.routines.profile import Phase, Profile, Sensitivity
from app.domain.routines.rules import RuleId
from app.domain.routines.session import SHORT_SESSION_MINUTES, is_short

BACK_INJURY_REHABILITATION = "back-injury-rehabilitation"
AAOS_PROGRAM = "aaos-back-pain-exercises"
PHYSICAL_THERAPY = "physical-therapy-for-back-pain"
WHAT_STRETCH = "what-stretch-relieves-lower-back-pain"
RELIEF_STRETCHES = "back-pain-relief-stretches"

SHORT_SESSION_FREQUENCIES: dict[Phase, str] = {
    Phase.acute: (
        "Three times a day while you are in pain: a short session (at most "
        f"{SHORT_SESSION_MINUTES} minutes) done often."
    ),
    Phase.recovering: (
        "Three times a day on days you still have pain, once a day once it has gone; at least "
        "three to four times a week, daily if you can."
    ),
}
LONG_SESSION_FREQUENCY = (
    f"Once a day: a session longer than {SHORT_SESSION_MINUTES} minutes is not repeated through "
    "the day. Daily if you can, at least three to four times a week."
)
MAINTENANCE_FREQUENCY = "Once a day, to help keep the pain from coming back."
AEROBIC_IN_ONE_SESSION = " Do the aerobic block in only one of the day's sessions."
FREQUENCY_SOURCES: dict[Phase, list[str]] = {
    Phase.acute: [BACK_INJURY_REHABILITATION],
    Phase.recovering: [BACK_INJURY_REHABILITATION, PHYSICAL_THERAPY],
    Phase.maintenance: [BACK_INJURY_REHABILITATION, RELIEF_STRETCHES],
}
AEROBIC_TIMES_PER_WEEK = 3
AEROBIC_TIMES_PER_WEEK_MAX = 4
"""Source 002: three to four times a week; the routine stores the lower bound."""
AEROBIC_MINUTES = 30
AEROBIC_FREQUENCY = (
    f"Low-impact aerobic exercise for at least {AEROBIC_MINUTES} minutes each time, three to "
    "four times a week."
)

STOP_RULE = (
    "Stop any exercise that increases your pain or brings on new pain, and contact your doctor."
)
CHECK_FIRST = "Check with a healthcare provider before starting a new exercise program."
MOVE_SLOWLY = (
    "Move slowly into every stretch and hold it without bouncing; go only as far as a gentle "
    "pull, never into pain."
)
NOT_FOR_EVERYONE = (
    "Not every exercise suits every back: depending on the cause of your pain some may not be "
    "recommended, so drop any that do not agree with you."
)
PAIN_UNDER_CONTROL = (
    "Get your pain under control before starting. Rest in bed for a day or two at most, then "
    "return to activity early."
)
ICE_AND_HEAT = (
    "Ice may ease pain and swelling in the first days after an injury; a heating pad may help "
    "in the days after, once it starts to heal. Some people switch back and forth between the "
    "two for relief."
)
LOW_IMPACT_ONLY = (
    "Keep to low-impact activity: avoid running, jogging and jumping while your back heals."
)
LEG_SYMPTOMS = (
    "You have pain spreading into a leg. Stretches that pull on the sciatic nerve go only to a "
    "gentle pull; if the leg pain increases, spreads further down the leg, or numbness or "
    "weakness appears, stop and contact your doctor."
)
DIRECTION_NOTES: dict[Sensitivity, str] = {
    Sensitivity.flexion_sensitive: (
        "Exercises that bend your lower back forward are left out because bending forward makes "
        "your pain worse; one source says backward bending may relieve a disc problem. Doing the "
        "backward-bending exercise first is clinical practice (McKenzie directional preference), "
        "not a claim of the sources."
    ),
    Sensitivity.extension_sensitive: (
        "Exercises that bend your lower back backwards are left out because bending backwards "
        "makes your pain worse. Gentle forward bending comes first by clinical convention "
        "(Williams flexion exercises), not because the sources say so."
    ),
    Sensitivity.unknown: (
        "Because it is not known which way of bending eases your pain, exercises that bend the "
        "lower back forward or backwards are left out."
    ),
}


def frequency_for(profile: Profile, routine_minutes: int, with_aerobic: bool) -> Frequency:
    """How often to do the session follows its length as well as the phase: three times a day
    only for a short session while in pain; aerobic work has its own weekly frequency."""
    rules: list[RuleId] = []
    if profile.phase is Phase.maintenance:
        text, times_per_day = MAINTENANCE_FREQUENCY, 1
        rules.append(RuleId.pain_gone_once_a_day)
    elif is_short(routine_minutes):
        text, times_per_day = SHORT_SESSION_FREQUENCIES[profile.phase], 3
        if profile.phase is Phase.acute:
            rules.append(RuleId.acute_session_length)
        rules.append(RuleId.short_session_three_times_a_day)
        if with_aerobic:
            text += AEROBIC_IN_ONE_SESSION
    else:
        text, times_per_day = LONG_SESSION_FREQUENCY, 1
        rules.append(RuleId.long_session_once_a_day)
    if profile.phase is Phase.recovering:
        rules.append(RuleId.pain_gone_once_a_day)
    sources = list(FREQUENCY_SOURCES[profile.phase])
    if with_aerobic:
        sources.append(PHYSICAL_THERAPY)
        rules.append(RuleId.aerobic_frequency)
    return Frequency(
        routine=text,
        aerobic=AEROBIC_FREQUENCY if with_aerobic else None,
        sources=list(dict.fromkeys(sources)),
        times_per_day=times_per_day,
        aerobic_times_per_week=AEROBIC_TIMES_PER_WEEK if with_aerobic else None,
        aerobic_minutes=AEROBIC_MINUTES if with_aerobic else None,
        rules=rules,
    )


def safety_notes_for(profile: Profile, with_aerobic: bool) -> list[str]:
    notes = [STOP_RULE, CHECK_FIRST, MOVE_SLOWLY, NOT_FOR_EVERYONE]
    if profile.phase is Phase.acute:
        notes.extend([PAIN_UNDER_CONTROL, ICE_AND_HEAT])
    if profile.sensitivity in DIRECTION_NOTES:
        notes.append(DIRECTION_NOTES[profile.sensitivity])
    if profile.leg_symptoms:
        notes.append(LEG_SYMPTOMS)
    if with_aerobic:
        notes.append(LOW_IMPACT_ONLY)
    return notes


def advice_sources(profile: Profile) -> list[str]:
    """Sources behind the safety notes: the stop rule (000, 001), moving slowly and the
    direction rule (003), pain control and rest (002, 001), ice and heat (000)."""
    sources = [BACK_INJURY_REHABILITATION, AAOS_PROGRAM, WHAT_STRETCH]
    if profile.phase is Phase.acute:
        sources.append(PHYSICAL_THERAPY)
    return sources


def citations_for(source_ids: Iterable[str], sources: Mapping[str, Source]) -> list[SourceCitation]:
    """Each source once, in the order first used; ids the catalogue does not know are left out."""
    return [
        SourceCitation(source=source_id, title=sources[source_id].title)
        for source_id in dict.fromkeys(source_ids)
        if source_id in sources
    ]
