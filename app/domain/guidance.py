"""Plain-language explanations of levels and contraindication flags, shown to integrators and
frontends. The motion rules themselves live in `app.domain.exercise.MOTION_FLAGS`."""

from dataclasses import dataclass

from app.domain.exercise import MOTION_FLAGS
from app.domain.routines.feedback import (
    MOVE_UP_MINIMUM_DAYS,
    MOVE_UP_MINIMUM_SESSIONS,
    PAIN_TOO_HIGH_TO_ADVANCE,
)
from app.domain.vocabulary import Flag, Level, SpinalMotion


@dataclass(frozen=True)
class LevelGuidance:
    level: Level
    name: str
    description: str
    when_to_move_up: str


@dataclass(frozen=True)
class FlagGuidance:
    flag: Flag
    name: str
    explanation: str
    indicated_motion: SpinalMotion
    evidence: str

    @property
    def excluded_motions(self) -> list[SpinalMotion]:
        return [motion for motion, flag in MOTION_FLAGS.items() if flag is self.flag]


MOVE_UP_IS_A_DESIGN_CHOICE = (
    "This rule for moving up is a design choice of this API: the sources give the levels but no "
    "rule for moving between them."
)
MOVE_UP_AFTER_A_WEEK = (
    f"Move up after about a week of sessions: at least {MOVE_UP_MINIMUM_SESSIONS} reported "
    f"sessions over {MOVE_UP_MINIMUM_DAYS} days or more, each done in full without your pain "
    f"rising and with pain after it below {PAIN_TOO_HIGH_TO_ADVANCE}, the last one feeling easy."
)

LEVELS: tuple[LevelGuidance, ...] = (
    LevelGuidance(
        Level.beginner,
        "Beginner",
        "The beginning program of the American Academy of Orthopaedic Surgeons (source 001): "
        "ankle pumps, heel slides, tightening the stomach muscles lying down, the wall squat, "
        "heel raises and the straight leg raise. With them, the back stretches of sources 000 "
        "and 004 (back extension, cat stretch, hip rolls, child's pose), back flattening, and "
        "low-impact aerobic work on land or in water (source 002).",
        f"{MOVE_UP_AFTER_A_WEEK} {MOVE_UP_IS_A_DESIGN_CHOICE}",
    ),
    LevelGuidance(
        Level.intermediate,
        "Intermediate",
        "The AAOS intermediate program (source 001): the single knee to chest and hamstring "
        "stretches. With them, the other hamstring stretches and straight leg raises (some of "
        "which pull on the sciatic nerve), the double knee to chest, the kneeling hip flexor "
        "stretch, the leg extension on all fours, and swimming.",
        f"{MOVE_UP_AFTER_A_WEEK} Not while in the acute phase: the advanced program waits until "
        f"the pain is easing. {MOVE_UP_IS_A_DESIGN_CHOICE}",
    ),
    LevelGuidance(
        Level.advanced,
        "Advanced",
        "The AAOS advanced program (source 001): the hip flexor stretch at the edge of a bed and "
        "the piriformis stretch, deeper hip stretches that need good control of the lower back.",
        "The top level: keep going daily to prevent recurrence, once a day once pain has gone "
        "(source 000).",
    ),
)

FLAGS: tuple[FlagGuidance, ...] = (
    FlagGuidance(
        Flag.flexion_sensitive,
        "Flexion-sensitive back",
        "Pain gets worse when you bend forward. This is typical of disc-related pain: flexing the "
        "spine may put more stress on a disc, and extending it may relieve it (source 003). "
        "Exercises that bend the low back forward are left out by default; the extension "
        "exercise comes first.",
        SpinalMotion.extension,
        "Source 003 says extension 'may' relieve a disc problem; directional preference is also "
        "clinical practice (McKenzie). Sitting making it worse is a clinical addition.",
    ),
    FlagGuidance(
        Flag.extension_sensitive,
        "Extension-sensitive back",
        "Pain gets worse when you bend backwards. This is typical of arthritis of the facet "
        "joints, which extension can aggravate (source 003). Exercises that arch the low back "
        "backwards are left out by default; gentle flexion comes first.",
        SpinalMotion.flexion,
        "That gentle flexion is the indicated direction is clinical convention (flexion-biased "
        "Williams exercises), not a claim of the sources. Standing and spinal stenosis are "
        "clinical additions.",
    ),
)
