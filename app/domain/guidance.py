"""Plain-language explanations of levels and contraindication flags, shown to integrators and
frontends. The motion rules themselves live in `app.domain.exercise.MOTION_FLAGS`."""

from dataclasses import dataclass

from app.domain.exercise import MOTION_FLAGS
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


LEVELS: tuple[LevelGuidance, ...] = (
    LevelGuidance(
        Level.beginner,
        "Beginner",
        "Gentle movements done lying down or supported, with short holds: the beginning program "
        "of the American Academy of Orthopaedic Surgeons (source 001) and gentle stretches from "
        "the other sources.",
        "Move up when you can do every beginner exercise in your routine for the full dosage, on "
        "most days for about a week, without your pain rising during or after.",
    ),
    LevelGuidance(
        Level.intermediate,
        "Intermediate",
        "Longer holds and stretches that ask more range of the hips and back, as in the AAOS "
        "intermediate program (source 001).",
        "Move up when the intermediate exercises feel easy at the full dosage and your pain has "
        "stayed the same or fallen over a week or more.",
    ),
    LevelGuidance(
        Level.advanced,
        "Advanced",
        "The stretches the AAOS program (source 001) places last: deeper hip stretches that need "
        "good control of the low back.",
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
