"""Every rule the engine, the red flags and the feedback apply, each with its basis.

One entry per rule: a stable id (`RuleId`), the sentence shown to people, the reason code it
appears under in a routine (if any), and its basis: the source ids with the words quoted from
them, or a design choice with why. Item reasons, exclusion reasons, the frequency and feedback
rules name these ids, so a clinician or integrator can audit any routine (GET /v1/routine-rules).

To add a rule: add a `RuleId` member (`rule_ids.py`) and one `RoutineRule` to `ROUTINE_RULES`.
The tests fail when an id has no entry, an entry has no id, a quote is empty, or a design choice
says no why.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.routines.feedback import PAIN_NOT_EASING, RULE_TEXTS
from app.domain.routines.rule_ids import RuleId as RuleId
from app.domain.schema_config import ALWAYS_PRESENT

BACK_INJURY_REHABILITATION = "back-injury-rehabilitation"
AAOS_PROGRAM = "aaos-back-pain-exercises"
PHYSICAL_THERAPY = "physical-therapy-for-back-pain"
WHAT_STRETCH = "what-stretch-relieves-lower-back-pain"
RELIEF_STRETCHES = "back-pain-relief-stretches"


class RuleArea(StrEnum):
    """Which part of the engine applies the rule."""

    eligibility = "eligibility"
    selection = "selection"
    dosage = "dosage"
    order = "order"
    frequency = "frequency"
    safety = "safety"
    red_flag = "red_flag"
    feedback = "feedback"
    content = "content"
    """A rule the catalogue's content follows (seed/), which the engine's rules then read."""


class Severity(StrEnum):
    """How the rule checker (POST /v1/routine-checks) rates a program that breaks a rule."""

    block = "block"
    """Never without a clinician's reason: a contraindication, an emergency red flag, an
    exercise the person cannot get into position for."""
    warn = "warn"
    """Beyond what the sources cite or the engine allows: kept, and shown to the person."""
    info = "info"
    """Worth knowing (done on a bed, a gentle pull only); nothing is wrong."""


class RuleKind(StrEnum):
    """What a rule is to the person following a routine, which decides how paper prints it."""

    safety_cue = "safety_cue"
    """Keeps the person safe: printed as an instruction wherever it applies, never left off."""
    design_choice = "design_choice"
    """How this service set what the sources leave open (a dose, a hold): printed labelled as
    our choice."""
    information = "information"
    """Why something is or is not in the routine: in the API, not beside an exercise on paper."""


class Basis(StrEnum):
    source = "source"
    design_choice = "design_choice"


class SourceQuote(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str = Field(description="A source id (GET /v1/sources).")
    words: str = Field(description="The words quoted from that source.")


class RoutineRule(BaseModel):
    model_config = ConfigDict(frozen=True, **ALWAYS_PRESENT)

    id: RuleId
    area: RuleArea
    text: str = Field(description="The rule as shown to people.")
    code: str | None = Field(
        default=None,
        description="The reason code (item or exclusion) a routine shows it under, if any.",
    )
    basis: Basis
    quotes: list[SourceQuote] = Field(
        default_factory=list,
        description="For a source rule, what it rests on; for a design choice, related words.",
    )
    why: str | None = Field(
        default=None,
        description=(
            "For a design choice: why it was made (not a source fact). For a source rule: what "
            "in it goes beyond the source, if anything."
        ),
    )

    severity: Severity | None = Field(
        default=None,
        description=(
            "How the rule checker (POST /v1/routine-checks) rates a program that breaks the "
            "rule; null for a rule a program cannot break."
        ),
    )

    kind: RuleKind = Field(
        default=RuleKind.information,
        description=(
            "What the rule is to the person: safety_cue (printed as an instruction wherever it "
            "applies), design_choice (how this service set what the sources leave open, "
            "labelled as such), information (why something is or is not in the routine)."
        ),
    )

    @model_validator(mode="after")
    def _basis_is_stated(self) -> "RoutineRule":
        if self.basis is Basis.source and not self.quotes:
            raise ValueError(f"{self.id}: a source rule needs at least one quote")
        if self.basis is Basis.design_choice and not self.why:
            raise ValueError(f"{self.id}: a design choice needs a why")
        return self


def quote(source: str, words: str) -> SourceQuote:
    return SourceQuote(source=source, words=words)


def from_sources(
    rule_id: RuleId,
    area: RuleArea,
    text: str,
    *quotes: SourceQuote,
    code: str | None = None,
    why: str | None = None,
) -> RoutineRule:
    return RoutineRule(
        id=rule_id,
        area=area,
        text=text,
        code=code,
        basis=Basis.source,
        quotes=list(quotes),
        why=why,
    )


def design_choice(
    rule_id: RuleId,
    area: RuleArea,
    text: str,
    why: str,
    *quotes: SourceQuote,
    code: str | None = None,
) -> RoutineRule:
    return RoutineRule(
        id=rule_id,
        area=area,
        text=text,
        code=code,
        basis=Basis.design_choice,
        quotes=list(quotes),
        why=why,
    )


STOP_QUOTE = quote(
    AAOS_PROGRAM,
    "If any exercises worsen the pain or cause new pain, stop and contact your doctor.",
)
THREE_TIMES_QUOTE = quote(
    BACK_INJURY_REHABILITATION, "You should do these exercises three times per day."
)
ONCE_A_DAY_QUOTE = quote(
    BACK_INJURY_REHABILITATION,
    "Once you no longer have back pain, you can decrease the frequency to once a day to prevent "
    "future problems with your low back.",
)
AEROBIC_QUOTE = quote(
    PHYSICAL_THERAPY, "regular exercise 3-4 times a week of at least 30 minutes each time"
)
BED_QUOTE = quote(
    RELIEF_STRETCHES,
    "try doing these exercises from your bed if getting up and down from the floor is too much "
    "for you at the moment.",
)
HELPER_QUOTE = quote(
    WHAT_STRETCH,
    "This is a difficult stretch to do by yourself, and it is best if someone is there to assist.",
)
SCREENING_WHY = (
    "Not in the sources: an addition from widely used back-pain screening lists, because the "
    "symptom can signal a condition that needs a clinician before any exercise."
)
EMERGENCY_QUOTE = quote(
    BACK_INJURY_REHABILITATION,
    "Seek immediate medical attention if you also experience severe abdominal pain, a fever of "
    "more than 100.4F, and/or loss of bladder or bowel control.",
)
MOVE_SLOWLY_QUOTE = quote(
    WHAT_STRETCH,
    "do not continue with any stretching exercise that increases pain, and make sure to move "
    "slowly into any stretch",
)
COMPREHENSIVE_QUOTE = quote(
    BACK_INJURY_REHABILITATION,
    "A comprehensive back rehabilitation program should consist of stretching and strengthening "
    "exercises.",
)

PAIN_CONTROL_QUOTE = quote(
    PHYSICAL_THERAPY,
    "These exercises will be harder to do if you can not control your pain so this should be a "
    "priority before attempting any of these exercises.",
)

DISC_FLEXION_QUOTE = quote(
    WHAT_STRETCH,
    "if you have a disc problem, flexing the spine may put more stress on the disc.",
)

E = RuleArea.eligibility
S = RuleArea.selection
D = RuleArea.dosage

RULE_ENTRIES: tuple[RoutineRule, ...] = (
    design_choice(
        RuleId.not_published,
        E,
        "Only published exercises go into routines.",
        "Drafts and retired exercises have not been reviewed for use, or no longer are.",
        code="not_published",
    ),
    from_sources(
        RuleId.direction_flag,
        E,
        "An exercise that bends the lower back the way that makes your pain worse is left out "
        "by default.",
        quote(
            WHAT_STRETCH,
            "if you have a disc problem, flexing the spine may put more stress on the disc.",
        ),
        quote(
            WHAT_STRETCH,
            "If you have arthritis in the facet joints, which are the joints in the posterior "
            "part of the spine, those can be aggravated by extension or bending backwards.",
        ),
        code="flag",
    ),
    design_choice(
        RuleId.unknown_direction,
        E,
        "When it is not known which way of bending eases your pain, exercises that bend the "
        "lower back forward or backwards are both left out.",
        "The sources say either end range may aggravate some backs; without knowing which, the "
        "cautious choice is neither.",
        quote(WHAT_STRETCH, "You have to listen to your body"),
        code="flag",
    ),
    from_sources(
        RuleId.level,
        E,
        "Exercises above your level are left out until you move up.",
        quote(AAOS_PROGRAM, "Beginning Exercise Program"),
        quote(AAOS_PROGRAM, "Intermediate Exercise Program"),
        quote(AAOS_PROGRAM, "Advanced Exercise Program"),
        code="level",
    ),
    design_choice(
        RuleId.equipment,
        E,
        "Exercises that need equipment you do not have are left out.",
        "An exercise cannot be done without what it needs.",
        code="equipment",
    ),
    from_sources(
        RuleId.floor_position,
        E,
        "If you cannot get down to the floor, floor exercises are left out unless they can be "
        "done on a bed and you have one.",
        BED_QUOTE,
        quote(WHAT_STRETCH, "Start by lying flat on your back on the floor, couch, or bed."),
        quote(AAOS_PROGRAM, "Lie on your back near edge of bed"),
        code="position",
    ),
    design_choice(
        RuleId.no_half_kneeling_on_bed,
        E,
        "Half-kneeling is never offered on a bed to someone who cannot get down to the floor.",
        "Kneeling on one knee on a soft, raised surface risks a fall, and someone who cannot get "
        "down to the floor may not get up from one.",
        code="position",
    ),
    from_sources(
        RuleId.helper,
        E,
        "An assisted exercise is offered only when a helper is available.",
        HELPER_QUOTE,
        code="helper",
    ),
    from_sources(
        RuleId.high_impact,
        E,
        "High-impact activity is left out while the back heals.",
        quote(
            PHYSICAL_THERAPY,
            "try and avoid things like running, jogging or jumping as it can stress the spine.",
        ),
        code="impact",
    ),
    design_choice(
        RuleId.aerobic_not_requested,
        E,
        "Aerobic activity is added only when asked for.",
        "Aerobic work takes time and equipment the person may not have; it is opt-in "
        "(include_aerobic, or the whole_body target area).",
        code="not_requested",
    ),
    design_choice(
        RuleId.time,
        S,
        "A routine never takes longer than the minutes asked; what does not fit is left out.",
        "A session that overruns the time someone has is a session they stop doing.",
        code="time",
    ),
    design_choice(
        RuleId.one_aerobic_activity,
        S,
        "A routine holds one aerobic activity.",
        "One activity done for longer gives more of the 30 minutes the source asks for than "
        "several short ones.",
        AEROBIC_QUOTE,
        code="alternative_chosen",
    ),
    design_choice(
        RuleId.variants_at_most_two,
        S,
        "At most two variants of the same stretch (for example two hamstring stretches) go "
        "into one routine.",
        "Variants work the same tissue; a third adds repetition, not range, and crowds out "
        "other exercises.",
        code="routine_limit",
    ),
    design_choice(
        RuleId.nerve_tension_at_most_two,
        S,
        "With pain spreading into a leg, at most two exercises that pull on the sciatic nerve "
        "(every stretch that holds the leg straight with the hip bent, whatever its family) go "
        "into one routine.",
        "The sources offer these stretches for leg pain but do not say how many; each one loads "
        "an irritated nerve, so the load is kept small.",
        quote(
            WHAT_STRETCH,
            "decompressing the large sciatic nerve that may be entrapped or irritated by "
            "surrounding tissues",
        ),
        code="routine_limit",
    ),
    design_choice(
        RuleId.one_nerve_tension_variant,
        S,
        "With pain spreading into a leg, never two variants of the same nerve stretch (the "
        "assisted and the strap straight leg raise) in one routine.",
        "Source 003 offers the strap raise as the alternative to the assisted one, not as an "
        "addition; both together double the load on the nerve.",
        quote(
            WHAT_STRETCH,
            "there are two variations you can try if you are by yourself",
        ),
        code="routine_limit",
    ),
    design_choice(
        RuleId.floor_once,
        RuleArea.order,
        "Aerobic work aside, a session goes down to the floor at most once: no floor, standing, "
        "floor again.",
        "Getting down to the floor and up again is hard with back pain; the sources suggest a "
        "bed when it is too much.",
        BED_QUOTE,
        code="routine_limit",
    ),
    design_choice(
        RuleId.indicated_extension,
        S,
        "When bending forward makes your pain worse, a backward-bending exercise comes first.",
        "Putting it first is clinical practice (McKenzie directional preference); the source "
        "says only that extension may relieve a disc problem.",
        quote(
            WHAT_STRETCH,
            "If you extend the spine, sort of bending backwards, it may alleviate the stress on "
            "the disc.",
        ),
        code="indicated_direction",
    ),
    design_choice(
        RuleId.indicated_left_out,
        S,
        "When the exercise in the direction indicated for your back is not in the routine, the "
        "routine says so, and why.",
        "Its absence must not read as a choice: the person and their clinician should know the "
        "indicated direction is missing (for example, no bed listed).",
    ),
    design_choice(
        RuleId.indicated_flexion,
        S,
        "When bending backwards makes your pain worse, a gentle forward-bending exercise comes "
        "first.",
        "Clinical convention (flexion-biased Williams exercises), not a claim of the sources, "
        "which only say extension may aggravate facet-joint arthritis.",
        code="indicated_direction",
    ),
    design_choice(
        RuleId.target_area,
        S,
        "The body areas you ask for are covered first.",
        "The person knows where it hurts; covering those areas first is what they asked for.",
        code="target_area",
    ),
    from_sources(
        RuleId.aerobic_requested,
        S,
        "When asked for, one low-impact aerobic activity is added.",
        quote(
            PHYSICAL_THERAPY,
            "So you will want to stick with things like swimming, water exercises, cycling, "
            "using a treadmill or elliptical machine.",
        ),
        code="balance",
    ),
    from_sources(
        RuleId.balance,
        S,
        "A routine holds a warm-up, a stretch and a strength or stabilisation exercise.",
        COMPREHENSIVE_QUOTE,
        code="balance",
        why=(
            "The source names stretching and strengthening; starting with a warm-up is a design "
            "choice (gentle movement before held stretches), not in its words."
        ),
    ),
    from_sources(
        RuleId.cool_down,
        S,
        "A gentle stretch ends the routine.",
        quote(PHYSICAL_THERAPY, "it can be done after a workout to cool down the muscle."),
        code="cool_down",
    ),
    design_choice(
        RuleId.fill,
        S,
        "Time left over is filled with more suitable exercises, keeping mobility and strength "
        "work balanced.",
        "More different exercises give more of what the sources recommend than more of the same.",
        COMPREHENSIVE_QUOTE,
        code="fill",
    ),
    design_choice(
        RuleId.sets_cited,
        D,
        "Sets come from the cited dosage: one set where the source gives none.",
        "The sources give repetitions and holds, rarely sets; one set is the reading that adds "
        "nothing to what they say.",
        code=None,
    ),
    design_choice(
        RuleId.sets_raised,
        D,
        "Outside the acute phase, an exercise whose source gives no sets may be done twice (at "
        "most 2 sets) to use the time.",
        "The sources give no sets for these exercises; two is a modest, labelled extension, "
        "never above what a source gives.",
        code="sets_raised",
    ),
    design_choice(
        RuleId.no_extra_sets_acute,
        D,
        "In the acute phase, sets are never raised: time is filled with other suitable "
        "exercises instead.",
        "While in pain, more repetitions of one movement load the same tissue; a short session "
        "done often is gentler.",
        THREE_TIMES_QUOTE,
        code=None,
    ),
    design_choice(
        RuleId.reps_default,
        D,
        "Where a source gives a hold but no number of repetitions, the routine uses 5.",
        "A small count, the lowest the sources give for a held stretch.",
        code="dosage_completed",
    ),
    design_choice(
        RuleId.hold_range,
        D,
        "Where a source gives a hold range, beginners hold for its lower end and everyone else "
        "for its upper end.",
        "Both ends are within what the source says; the longer hold is kept for people past the "
        "beginning level.",
        quote(BACK_INJURY_REHABILITATION, "Hold this position for five to 10 seconds"),
        code="hold_range",
    ),
    design_choice(
        RuleId.aerobic_scaled,
        D,
        "An aerobic activity in a routine is shortened to fit beside the exercises; the rest of "
        "the 30 minutes is made up in a separate session.",
        "The source's 30 minutes would leave no time for the back exercises in a short routine.",
        AEROBIC_QUOTE,
        code="aerobic_scaled",
    ),
    design_choice(
        RuleId.dose_above_cited,
        D,
        "A program's repetitions, hold or minutes stay within what the sources cite for the "
        "exercise (5 repetitions where a source gives a hold but no count, 30 minutes of "
        "aerobic work where it gives no duration).",
        "The engine never prescribes more than a source cites; a clinician may, and the person "
        "is shown that the dose goes beyond the sources.",
        code=None,
    ),
    design_choice(
        RuleId.clinician_chosen,
        S,
        "In a program a clinician builds, the clinician chose the exercises, their order and "
        "doses; the same rules as generated routines check it, and what goes beyond them is "
        "shown to you.",
        "A clinician who has examined the person knows more than a profile says; checking "
        "their program by the engine's rules keeps the same safety net under both.",
        code="clinician_chosen",
    ),
    design_choice(
        RuleId.clinician_override,
        S,
        "A program with a blocking finding (a contraindication, a position you cannot get into) "
        "is stored only with the clinician's reason for it, which your handout shows: \"your "
        'clinician chose this because ...". An emergency red flag cannot be overridden.',
        "The rules are written for people nobody has examined; a clinician may have a reason "
        "to go against one, and writing it down keeps the choice accountable.",
        code="clinician_chosen",
    ),
    design_choice(
        RuleId.program_follows_feedback,
        RuleArea.feedback,
        "After feedback on a clinician's program, the next one keeps the same exercises: "
        "regress takes a set off (else a third of the repetitions, or 5 minutes of aerobic "
        "work), advance adds one back, never beyond what the sources cite unless the clinician "
        "already had; repeat keeps the doses; stop ends the program.",
        "The clinician chose the exercises, so feedback changes how much, not what; the same "
        "feedback rules decide which way.",
    ),
    from_sources(
        RuleId.on_bed,
        RuleArea.order,
        "If you cannot get down to the floor, floor exercises are done on a firm bed, in the "
        "exercise's own position (lying, on all fours, sitting).",
        BED_QUOTE,
        code="on_bed",
    ),
    design_choice(
        RuleId.standing_support,
        RuleArea.order,
        "If you cannot get down to the floor, hold on to a counter or chair back for standing "
        "balance work.",
        "Someone who cannot get down to the floor may not get up after a fall; rising on the "
        "toes is balance work.",
        code="standing_support",
    ),
    design_choice(
        RuleId.leg_symptoms_gentle_pull,
        D,
        "With pain spreading into a leg, a stretch that pulls on the sciatic nerve goes only to "
        "a gentle pull; stop if the leg pain increases or spreads.",
        "Source 003 takes the assisted raise to 'significant pulling', but the stop rule every "
        "source gives comes first; one limit everywhere: a gentle pull, never a strong one.",
        STOP_QUOTE,
        MOVE_SLOWLY_QUOTE,
        code="leg_symptoms",
    ),
    design_choice(
        RuleId.acute_session_length,
        RuleArea.frequency,
        "In the acute phase a session is kept to at most 15 minutes, done three times a day.",
        "Source 000's 'three times per day' was written for four short exercises (about 8 "
        "minutes); three long sessions a day while in pain is more than it asks for.",
        THREE_TIMES_QUOTE,
    ),
    from_sources(
        RuleId.short_session_three_times_a_day,
        RuleArea.frequency,
        "A short session (15 minutes or less) is done three times a day while you are in pain.",
        THREE_TIMES_QUOTE,
    ),
    design_choice(
        RuleId.long_session_once_a_day,
        RuleArea.frequency,
        "A session longer than 15 minutes is done once a day.",
        "Three times a day was given for a short session; a longer one covers more exercises in "
        "one go, and daily is the frequency source 002 gives for a program.",
        THREE_TIMES_QUOTE,
        quote(PHYSICAL_THERAPY, "if not daily at least 3-4 times per week."),
    ),
    from_sources(
        RuleId.pain_gone_once_a_day,
        RuleArea.frequency,
        "Once the pain has gone, the routine is done once a day to prevent recurrence; daily "
        "if you can, at least three to four times a week.",
        ONCE_A_DAY_QUOTE,
        quote(PHYSICAL_THERAPY, "if not daily at least 3-4 times per week."),
        quote(RELIEF_STRETCHES, "you need to stretch every day."),
    ),
    from_sources(
        RuleId.aerobic_frequency,
        RuleArea.frequency,
        "Aerobic activity has its own frequency: at least 30 minutes, three to four times a "
        "week, not the stretches' three times a day.",
        AEROBIC_QUOTE,
    ),
    from_sources(
        RuleId.stop_rule,
        RuleArea.safety,
        "Stop any exercise that increases your pain or brings on new pain, and contact your "
        "doctor.",
        STOP_QUOTE,
        quote(
            BACK_INJURY_REHABILITATION,
            "If any activity causes more pain, stop the exercise immediately.",
        ),
    ),
    from_sources(
        RuleId.check_first,
        RuleArea.safety,
        "Check with a healthcare provider before starting a new exercise program.",
        quote(
            BACK_INJURY_REHABILITATION,
            "Be sure to check with your healthcare provider before starting these back injury "
            "stretches",
        ),
    ),
    from_sources(
        RuleId.move_slowly,
        RuleArea.safety,
        "Move slowly into every stretch, only as far as a gentle pull, never into pain.",
        MOVE_SLOWLY_QUOTE,
    ),
    from_sources(
        RuleId.not_for_everyone,
        RuleArea.safety,
        "Not every exercise suits every back; drop any that do not agree with you.",
        quote(BACK_INJURY_REHABILITATION, "Not everyone benefits from the same type of exercises"),
        quote(
            AAOS_PROGRAM,
            "Depending on the cause of your back pain, some exercises may not be recommended.",
        ),
    ),
    from_sources(
        RuleId.pain_under_control,
        RuleArea.safety,
        "Get your pain under control before starting; bed rest one or two days at most.",
        quote(
            PHYSICAL_THERAPY,
            "These exercises will be harder to do if you can not control your pain so this "
            "should be a priority before attempting any of these exercises.",
        ),
        quote(AAOS_PROGRAM, "Bed rest for only 1\u20132 days at most"),
    ),
    from_sources(
        RuleId.low_impact_only,
        RuleArea.safety,
        "Keep to low-impact activity while the back heals.",
        quote(
            PHYSICAL_THERAPY,
            "you will want to make sure that you are only doing low impact exercises while you "
            "heal",
        ),
    ),
    design_choice(
        RuleId.under_filled,
        RuleArea.selection,
        "A routine that fills less than 80% of the minutes asked says why, and what would fill "
        "it (equipment, a bed, aerobic work, a higher level).",
        "A short routine is safer than padding; saying what would fill it lets the person decide.",
    ),
    from_sources(
        RuleId.red_flag_severe_abdominal_pain,
        RuleArea.red_flag,
        "Severe abdominal pain with back pain: seek medical care immediately; no routine.",
        EMERGENCY_QUOTE,
    ),
    from_sources(
        RuleId.red_flag_fever,
        RuleArea.red_flag,
        "A fever over 38 °C (100.4 °F) with back pain: seek medical care immediately; no routine.",
        EMERGENCY_QUOTE,
    ),
    from_sources(
        RuleId.red_flag_bladder_or_bowel_control_loss,
        RuleArea.red_flag,
        "Loss of bladder or bowel control: seek medical care immediately; no routine.",
        EMERGENCY_QUOTE,
        why=(
            "Asking too about difficulty starting or stopping urine (urinary retention) is a "
            "design choice, from widely used screening lists."
        ),
    ),
    from_sources(
        RuleId.red_flag_strain_pain_beyond_two_weeks,
        RuleArea.red_flag,
        "Pain from a strain lasting more than one to two weeks: see a physician before starting.",
        quote(
            BACK_INJURY_REHABILITATION,
            "If it lasts longer than a week or two, make an appointment with your primary care "
            "physician.",
        ),
        why=(
            "'Before starting' is a design choice: the source says to make an appointment, not "
            "when to exercise; the routine is given once a clinician has cleared the person "
            "(cleared_by_clinician)."
        ),
    ),
    design_choice(
        RuleId.red_flag_saddle_numbness,
        RuleArea.red_flag,
        "Numbness around the genitals, buttocks or inner thighs: seek medical care "
        "immediately; no routine.",
        SCREENING_WHY,
    ),
    design_choice(
        RuleId.red_flag_progressive_leg_weakness,
        RuleArea.red_flag,
        "A leg getting weaker: seek medical care immediately; no routine.",
        SCREENING_WHY,
    ),
    design_choice(
        RuleId.red_flag_major_trauma,
        RuleArea.red_flag,
        "Back pain after a major injury: see a doctor today; no routine.",
        SCREENING_WHY,
    ),
    design_choice(
        RuleId.red_flag_history_of_cancer,
        RuleArea.red_flag,
        "A history of cancer, and this back pain is new: see your doctor in the next few days "
        "before starting.",
        SCREENING_WHY,
    ),
    design_choice(
        RuleId.cleared_by_clinician,
        RuleArea.red_flag,
        "A 'see someone soon' flag (urgency soon) gives the routine, with its referral advice "
        "kept beside it, once the profile says a clinician has cleared the person "
        "(cleared_by_clinician); emergency and same-day flags refer whatever that field says.",
        "The sources say to see a physician, not to stop exercising for good: once one has "
        "checked, the routine is what they cleared the person for.",
        quote(
            BACK_INJURY_REHABILITATION,
            "If it lasts longer than a week or two, make an appointment with your primary care "
            "physician.",
        ),
    ),
    design_choice(
        RuleId.red_flag_unexplained_weight_loss,
        RuleArea.red_flag,
        "Weight lost without trying: see your doctor in the next few days before starting.",
        SCREENING_WHY,
    ),
    design_choice(
        RuleId.saddle_numbness,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.saddle_numbness],
        "Not in the sources: the red-flag list's saddle numbness (an emergency at screening) "
        "gets the same urgency when it is reported after a session.",
    ),
    design_choice(
        RuleId.leg_weakness,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.leg_weakness],
        "Not in the sources: the red-flag list's progressive leg weakness (an emergency at "
        "screening) gets the same urgency when new or worse weakness is reported after a "
        "session.",
    ),
    design_choice(
        RuleId.new_leg_symptoms,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.new_leg_symptoms],
        "Leg symptoms that appear with exercise can mean an irritated nerve: the stop rule's "
        "'new pain', applied to the leg.",
        STOP_QUOTE,
    ),
    design_choice(
        RuleId.leg_symptoms_worse,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.leg_symptoms_worse],
        "Leg symptoms that get worse or spread are the stop rule's 'worsen the pain', applied "
        "to the leg.",
        STOP_QUOTE,
    ),
    from_sources(
        RuleId.new_pain,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.new_pain],
        STOP_QUOTE,
    ),
    design_choice(
        RuleId.pain_rose_sharply,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.pain_rose_sharply],
        "The sources say to stop when pain worsens; a rise of 3 on a 0-10 scale is where this "
        "API stops rather than adjusts (the threshold is a design choice).",
        STOP_QUOTE,
    ),
    from_sources(
        RuleId.pain_rose_again,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.pain_rose_again],
        STOP_QUOTE,
        why=(
            "The sources stop at any rise; easing off once at a rise of 1 or 2 is this API's "
            "design choice, and the pain-rose text promises to stop at the next rise."
        ),
    ),
    design_choice(
        RuleId.pain_rose_over_chain,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.pain_rose_over_chain],
        "The sources say to stop when pain worsens; small rises that add up to 3 over a chain "
        "are treated like one rise of 3, so easing off never hides a steady climb (the "
        "threshold and the adding up are design choices).",
        STOP_QUOTE,
    ),
    design_choice(
        RuleId.pain_rose,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.pain_rose],
        "A rise of 1 or 2 points is treated as a sign to ease off rather than stop, with the "
        "stop rule repeated (the tolerance is a design choice).",
        STOP_QUOTE,
    ),
    design_choice(
        RuleId.too_hard,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.too_hard],
        "The sources give levels but no rule for moving down; easing off when it feels hard "
        "keeps the person exercising.",
    ),
    design_choice(
        RuleId.not_completed,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.not_completed],
        "Moving on before the routine can be finished would skip a step.",
    ),
    from_sources(
        RuleId.pain_too_high_to_advance,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.pain_too_high_to_advance],
        PAIN_CONTROL_QUOTE,
        why=(
            "The threshold, pain of 5 or more after the session, is a design choice: the "
            "source asks for pain under control but gives no number."
        ),
    ),
    design_choice(
        RuleId.move_up_after_a_week,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.move_up_after_a_week],
        "The sources give three levels but no rule for moving up; one easy session is too "
        "little to go on, so the API's own move-up guidance (about a week) applies.",
    ),
    design_choice(
        RuleId.easy_without_pain,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.easy_without_pain],
        "The sources give three levels but no rule for moving up; about a week of complete "
        "sessions without more pain, ending with an easy one, is the signal used here.",
    ),
    design_choice(
        RuleId.about_right,
        RuleArea.feedback,
        RULE_TEXTS[RuleId.about_right],
        "Nothing suggests a change.",
    ),
    from_sources(
        RuleId.pain_gone_moves_phase,
        RuleArea.feedback,
        "Pain reported as 0 before and after a session in the acute phase makes the next "
        "routine a recovering-phase one: once a day once the pain has gone.",
        ONCE_A_DAY_QUOTE,
    ),
    design_choice(
        RuleId.never_longer_when_easing,
        RuleArea.feedback,
        "After regress or repeat the next session is never longer than the one done; after "
        "advance it is at most 5 minutes longer. Leaving the acute phase counts too: its "
        "15-minute cap gives way 5 minutes at a time, never all at once.",
        "The sources give no rule for building up time; a sudden jump from a short session to "
        "the full time asked is the kind of increase the stop rule guards against.",
        STOP_QUOTE,
    ),
    design_choice(
        RuleId.acute_stops_at_intermediate,
        RuleArea.feedback,
        "While the phase is acute, feedback never moves the level up beyond intermediate.",
        "Someone still in pain (acute phase) after weeks of sessions is not moved on to the "
        "advanced program; the sources ask for pain under control first.",
        PAIN_CONTROL_QUOTE,
    ),
    from_sources(
        RuleId.pain_not_easing_two_weeks,
        RuleArea.feedback,
        PAIN_NOT_EASING,
        quote(
            BACK_INJURY_REHABILITATION,
            "If it lasts longer than a week or two, make an appointment with your primary care "
            "physician.",
        ),
        why=(
            "Two weeks is the longer end of the source's 'a week or two'; measuring it from "
            "the chain's first session, by the feedback's own timestamps, and comparing the "
            "pain after the latest session with the pain before the first are design choices."
        ),
    ),
    from_sources(
        RuleId.physical_therapist,
        RuleArea.feedback,
        "Where feedback says repeat, regress or stop, it suggests working with a physical "
        "therapist.",
        quote(
            BACK_INJURY_REHABILITATION,
            "If you have back pain or sciatica, you may benefit from working with a physical "
            "therapist.",
        ),
    ),
    from_sources(
        RuleId.ice_and_heat,
        RuleArea.safety,
        "Early on, ice may ease pain and swelling; heat may help once it starts to heal; some "
        "people switch between the two.",
        quote(
            BACK_INJURY_REHABILITATION,
            "Ice will limit blood flow to the affected area, so it may control pain and swelling "
            "better when it's inflamed right after an injury.",
        ),
        quote(
            BACK_INJURY_REHABILITATION,
            "A heating pad may work in the days after your injury begins to heal.",
        ),
    ),
    from_sources(
        RuleId.flexion_in_set_up,
        RuleArea.content,
        "An exercise whose set-up hugs the knees to the chest bends the lower back forward: it "
        "carries the flexion-sensitive flag, in the same words as the knee-to-chest stretches, "
        "even when its main movement is neutral (the hip flexor stretch at the edge of a bed).",
        quote(AAOS_PROGRAM, "Lie on your back near edge of bed, holding knees to chest"),
        DISC_FLEXION_QUOTE,
        code="flag",
    ),
    from_sources(
        RuleId.long_sitting_is_floor,
        RuleArea.content,
        "Sitting with the legs out straight is sitting on the floor (or a bed), not on a chair: "
        "without the floor it is offered only on a bed you listed (the seated hamstring "
        "stretch, the strap straight leg raise).",
        quote(RELIEF_STRETCHES, "Begin sitting on the floor with one leg straight"),
        BED_QUOTE,
        code="position",
    ),
    design_choice(
        RuleId.nerve_tension_marking,
        RuleArea.content,
        "Stretches that hold the leg straight with the hip bent (the assisted and strap straight "
        "leg raises, the active, supine and seated hamstring stretches) are marked as "
        "tensioning the sciatic nerve, so the leg-symptom rules apply to each: with leg "
        "symptoms at most two of them, whatever family they are in, each only to a gentle pull.",
        "Source 003 says this of its straight leg raise; the active stretch (straight leg lifted, "
        "toes pulled up), the supine one (hip at 90 degrees, knee straightened) and the seated "
        "one (leaning forward from the hips over a straight leg) put the nerve in the same "
        "position, so they get the same care.",
        quote(
            WHAT_STRETCH,
            "decompressing the large sciatic nerve that may be entrapped or irritated by "
            "surrounding tissues",
        ),
    ),
    design_choice(
        RuleId.strap_flat_back_set_up,
        RuleArea.content,
        "To loop the strap of the strap straight leg raise, bend the knee and bring the foot to "
        "you with the back straight, rather than leaning forward over a straight leg.",
        "Leaning forward to reach the foot bends the lower back forward, which a "
        "flexion-sensitive back should avoid; the stretch itself is unchanged.",
        quote(
            WHAT_STRETCH, "lean forward and place the middle of the rope on the bottom of your foot"
        ),
    ),
    design_choice(
        RuleId.prone_extension_on_a_firm_bed,
        RuleArea.content,
        "The prone back extension may be done on a firm bed, so someone who cannot get down to "
        "the floor still gets the direction indicated for a flexion-sensitive back.",
        "Source 000 says to lie on your stomach, not where; a firm bed gives the arms a steady "
        "base to push from.",
        quote(BACK_INJURY_REHABILITATION, "Lie on your stomach"),
        BED_QUOTE,
    ),
    design_choice(
        RuleId.both_sides_inferred,
        RuleArea.content,
        "The kneeling hip flexor stretch is done on each side: switch legs after the repetitions.",
        "Source 004 names no side; a one-sided hip flexor stretch would leave the other hip "
        "tight, and its sister stretch in source 001 is done on each side.",
        quote(AAOS_PROGRAM, "Repeat 5 times on each side"),
    ),
)

RED_FLAG_RULES: tuple[RuleId, ...] = (
    RuleId.red_flag_severe_abdominal_pain,
    RuleId.red_flag_fever,
    RuleId.red_flag_bladder_or_bowel_control_loss,
    RuleId.red_flag_strain_pain_beyond_two_weeks,
    RuleId.red_flag_saddle_numbness,
    RuleId.red_flag_progressive_leg_weakness,
    RuleId.red_flag_major_trauma,
    RuleId.red_flag_history_of_cancer,
    RuleId.red_flag_unexplained_weight_loss,
)
"""The screening's red flags, one rule each."""

CHECK_SEVERITIES: dict[RuleId, Severity] = {
    **dict.fromkeys(
        (
            RuleId.direction_flag,
            RuleId.unknown_direction,
            RuleId.flexion_in_set_up,
            RuleId.floor_position,
            RuleId.long_sitting_is_floor,
            RuleId.no_half_kneeling_on_bed,
            *RED_FLAG_RULES,
        ),
        Severity.block,
    ),
    **dict.fromkeys(
        (
            RuleId.level,
            RuleId.equipment,
            RuleId.helper,
            RuleId.high_impact,
            RuleId.time,
            RuleId.acute_session_length,
            RuleId.variants_at_most_two,
            RuleId.nerve_tension_at_most_two,
            RuleId.one_nerve_tension_variant,
            RuleId.floor_once,
            RuleId.sets_cited,
            RuleId.sets_raised,
            RuleId.no_extra_sets_acute,
            RuleId.dose_above_cited,
        ),
        Severity.warn,
    ),
    **dict.fromkeys(
        (
            RuleId.aerobic_not_requested,
            RuleId.one_aerobic_activity,
            RuleId.indicated_left_out,
            RuleId.on_bed,
            RuleId.standing_support,
            RuleId.leg_symptoms_gentle_pull,
            RuleId.cleared_by_clinician,
        ),
        Severity.info,
    ),
}
"""What the rule checker makes of a program breaking each rule (the rest a program cannot
break: they say why the engine chose something, or apply to feedback)."""

RULE_KINDS: dict[RuleId, RuleKind] = {
    **dict.fromkeys(
        (
            RuleId.direction_flag,
            RuleId.unknown_direction,
            RuleId.floor_position,
            RuleId.no_half_kneeling_on_bed,
            RuleId.helper,
            RuleId.high_impact,
            RuleId.nerve_tension_at_most_two,
            RuleId.one_nerve_tension_variant,
            RuleId.on_bed,
            RuleId.standing_support,
            RuleId.leg_symptoms_gentle_pull,
            RuleId.stop_rule,
            RuleId.check_first,
            RuleId.move_slowly,
            RuleId.not_for_everyone,
            RuleId.pain_under_control,
            RuleId.low_impact_only,
            *RED_FLAG_RULES,
            RuleId.cleared_by_clinician,
            RuleId.saddle_numbness,
            RuleId.leg_weakness,
            RuleId.new_leg_symptoms,
            RuleId.leg_symptoms_worse,
            RuleId.new_pain,
            RuleId.pain_rose_sharply,
            RuleId.pain_rose_again,
            RuleId.pain_rose_over_chain,
            RuleId.pain_rose,
            RuleId.pain_not_easing_two_weeks,
            RuleId.flexion_in_set_up,
            RuleId.long_sitting_is_floor,
            RuleId.nerve_tension_marking,
        ),
        RuleKind.safety_cue,
    ),
    **dict.fromkeys(
        (
            RuleId.aerobic_not_requested,
            RuleId.one_aerobic_activity,
            RuleId.variants_at_most_two,
            RuleId.floor_once,
            RuleId.sets_cited,
            RuleId.sets_raised,
            RuleId.no_extra_sets_acute,
            RuleId.reps_default,
            RuleId.hold_range,
            RuleId.aerobic_scaled,
            RuleId.dose_above_cited,
            RuleId.acute_session_length,
            RuleId.long_session_once_a_day,
            RuleId.under_filled,
            RuleId.too_hard,
            RuleId.not_completed,
            RuleId.move_up_after_a_week,
            RuleId.easy_without_pain,
            RuleId.about_right,
            RuleId.never_longer_when_easing,
            RuleId.acute_stops_at_intermediate,
            RuleId.strap_flat_back_set_up,
            RuleId.prone_extension_on_a_firm_bed,
            RuleId.both_sides_inferred,
            RuleId.clinician_chosen,
            RuleId.clinician_override,
            RuleId.program_follows_feedback,
        ),
        RuleKind.design_choice,
    ),
    **dict.fromkeys(
        (
            RuleId.not_published,
            RuleId.level,
            RuleId.equipment,
            RuleId.time,
            RuleId.indicated_extension,
            RuleId.indicated_flexion,
            RuleId.indicated_left_out,
            RuleId.target_area,
            RuleId.aerobic_requested,
            RuleId.balance,
            RuleId.cool_down,
            RuleId.fill,
            RuleId.short_session_three_times_a_day,
            RuleId.pain_gone_once_a_day,
            RuleId.aerobic_frequency,
            RuleId.pain_too_high_to_advance,
            RuleId.pain_gone_moves_phase,
            RuleId.physical_therapist,
            RuleId.ice_and_heat,
        ),
        RuleKind.information,
    ),
}
"""Every rule's kind, which the handout prints from (a rule missing here fails at import). Kind
is not basis: a safety cue may rest on a design choice (standing support), and a reason that
says why an exercise was chosen is information whatever its basis."""

ROUTINE_RULES: tuple[RoutineRule, ...] = tuple(
    rule.model_copy(update={"severity": CHECK_SEVERITIES.get(rule.id), "kind": RULE_KINDS[rule.id]})
    for rule in RULE_ENTRIES
)

RULES_BY_ID: dict[RuleId, RoutineRule] = {rule.id: rule for rule in ROUTINE_RULES}


def red_flag_rule(flag_id: str) -> RuleId:
    """The rule of a red flag (`RedFlagId` value): `red-flag-` and its id with hyphens."""
    return RuleId("red-flag-" + flag_id.replace("_", "-"))


def rule_text(rule_id: RuleId) -> str:
    return RULES_BY_ID[rule_id].text
