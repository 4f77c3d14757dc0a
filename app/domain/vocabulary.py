"""The controlled vocabularies of the catalogue, defined once.

Models, request schemas, content validation and the OpenAPI document all use these enums, so adding
a term here is the one change needed for it to be accepted everywhere.
"""

from enum import StrEnum


class Category(StrEnum):
    stretch = "stretch"
    strengthening = "strengthening"
    stabilisation = "stabilisation"
    range_of_motion = "range_of_motion"
    aerobic = "aerobic"


class License(StrEnum):
    """The licences an editor's image may carry (SPDX ids): each lets the catalogue show the
    image and pass it on, with its author named. Nothing else is accepted."""

    cc0_1_0 = "CC0-1.0"
    cc_by_4_0 = "CC-BY-4.0"
    cc_by_sa_4_0 = "CC-BY-SA-4.0"
    cc_by_3_0 = "CC-BY-3.0"
    cc_by_sa_3_0 = "CC-BY-SA-3.0"


class ImageType(StrEnum):
    """The image formats media are accepted in and served as (each kept in its own format)."""

    jpeg = "image/jpeg"
    png = "image/png"
    webp = "image/webp"

    @property
    def extension(self) -> str:
        return IMAGE_EXTENSIONS[self]


IMAGE_EXTENSIONS: dict[ImageType, str] = {
    ImageType.jpeg: "jpg",
    ImageType.png: "png",
    ImageType.webp: "webp",
}


class Level(StrEnum):
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)


LEVEL_ORDER: tuple[Level, ...] = (Level.beginner, Level.intermediate, Level.advanced)


class SpinalMotion(StrEnum):
    flexion = "flexion"
    extension = "extension"
    rotation = "rotation"
    neutral = "neutral"


class Flag(StrEnum):
    """A sensitivity of the person's back: a contraindication flag on an exercise."""

    flexion_sensitive = "flexion_sensitive"
    extension_sensitive = "extension_sensitive"


class Impact(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"


class Position(StrEnum):
    supine = "supine"
    prone = "prone"
    hands_and_knees = "hands_and_knees"
    half_kneeling = "half_kneeling"
    seated = "seated"
    """On a chair or stool, feet on the floor."""
    long_sitting = "long_sitting"
    """Sitting on the floor (or a bed) with the legs out straight: a floor position."""
    standing = "standing"
    in_water = "in_water"


class TargetArea(StrEnum):
    lower_back = "lower_back"
    mid_back = "mid_back"
    abdominals = "abdominals"
    hamstrings = "hamstrings"
    hip_flexors = "hip_flexors"
    glutes = "glutes"
    calves = "calves"
    quadriceps = "quadriceps"
    sciatic_nerve = "sciatic_nerve"
    whole_body = "whole_body"


class Equipment(StrEnum):
    wall = "wall"
    bed = "bed"
    mat = "mat"
    strap = "strap"
    pillow = "pillow"
    pool = "pool"
    flotation_device = "flotation_device"
    limb_weights = "limb_weights"
    bicycle = "bicycle"
    treadmill = "treadmill"
    elliptical = "elliptical"


class PublisherKind(StrEnum):
    health_information_site = "health_information_site"
    patient_education_site = "patient_education_site"
    question_and_answer_site = "question_and_answer_site"
    clinic_blog = "clinic_blog"


class Status(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


VERSIONED_STATUSES: tuple[Status, ...] = (Status.published, Status.retired)
"""The kept versions anyone may read (`/v1/exercises/{slug}/versions`, FHIR history): what was
published, and its retirement. Drafts were never given to anyone, so they stay the editors'."""


class SyncChange(StrEnum):
    """What the changes feed says happened to an exercise a client may hold."""

    published = "published"
    """Live: the item carries its current public document."""
    retired = "retired"
    unpublished = "unpublished"
    """Moved back to draft after it was published."""
    deleted = "deleted"
    """Reserved: exercises are never hard-deleted today (DELETE retires them)."""


class Surface(StrEnum):
    """What an illustrated figure rests on."""

    floor = "floor"
    bed = "bed"
    chair = "chair"
    wall = "wall"
    """Standing on the floor, the back against a wall."""
    water = "water"
    """In a pool: standing on its floor or floating at the surface."""


class Prop(StrEnum):
    """What an illustration draws beside the figure."""

    strap = "strap"
    towel = "towel"
    ball = "ball"
    pillow = "pillow"
    bed_edge = "bed_edge"
    """A leg may hang down past the side of the bed."""
    counter = "counter"
    helper = "helper"
    """A second person, drawn holding the worked ankle."""
    bicycle = "bicycle"
    treadmill = "treadmill"
    elliptical = "elliptical"


class Side(StrEnum):
    left = "left"
    right = "right"


class Facing(StrEnum):
    """Which way a figure is drawn: its front (or, lying, its head's side) to the right or left."""

    right = "right"
    left = "left"


class BodyPart(StrEnum):
    """A part of a figure that may rest on a support."""

    head = "head"
    back = "back"
    """The back of the trunk, lying face up."""
    front = "front"
    """The chest and belly, lying face down."""
    pelvis = "pelvis"
    hands = "hands"
    forearms = "forearms"
    knees = "knees"
    feet = "feet"
    heels = "heels"
    toes = "toes"
    left_knee = "left_knee"
    right_knee = "right_knee"
    left_foot = "left_foot"
    right_foot = "right_foot"
    left_heel = "left_heel"
    right_heel = "right_heel"


class Support(StrEnum):
    """What a body part rests on: the surface's top, a chair's seat, the wall, the pool's floor."""

    surface = "surface"
    floor = "floor"
    seat = "seat"
    wall = "wall"
    water = "water"
    """Floating at the water's surface."""


DISPLAY_NAMES: dict[StrEnum, str] = {
    Category.stretch: "Stretch",
    Category.strengthening: "Strengthening",
    Category.stabilisation: "Core stabilisation",
    Category.range_of_motion: "Range of motion",
    Category.aerobic: "Low-impact aerobic",
    Position.supine: "Lying on the back",
    Position.prone: "Lying on the stomach",
    Position.hands_and_knees: "On hands and knees",
    Position.half_kneeling: "Half-kneeling",
    Position.seated: "Seated",
    Position.long_sitting: "Sitting with the legs out straight",
    Position.standing: "Standing",
    Position.in_water: "In water",
    TargetArea.lower_back: "Lower back",
    TargetArea.mid_back: "Mid back",
    TargetArea.abdominals: "Abdominals",
    TargetArea.hamstrings: "Hamstrings",
    TargetArea.hip_flexors: "Hip flexors",
    TargetArea.glutes: "Buttocks and hips",
    TargetArea.calves: "Calves",
    TargetArea.quadriceps: "Quadriceps",
    TargetArea.sciatic_nerve: "Sciatic nerve",
    TargetArea.whole_body: "Whole body (aerobic fitness)",
    Equipment.wall: "Wall",
    Equipment.bed: "Bed",
    Equipment.mat: "Exercise mat",
    Equipment.strap: "Belt, rope or stretch band",
    Equipment.pillow: "Thin pillow",
    Equipment.pool: "Swimming pool",
    Equipment.flotation_device: "Flotation device",
    Equipment.limb_weights: "Arm and leg weights",
    Equipment.bicycle: "Bicycle or exercise bike",
    Equipment.treadmill: "Treadmill",
    Equipment.elliptical: "Elliptical trainer",
}

FLOOR_FREE_POSITIONS: frozenset[Position] = frozenset(
    {Position.standing, Position.seated, Position.in_water}
)
"""Positions a person who cannot get down to the floor can still take (bed-friendly work aside).
Long sitting is not among them: it is sitting on the floor, or on a bed."""


def display_name(term: StrEnum) -> str:
    return DISPLAY_NAMES.get(term, term.value.replace("_", " ").capitalize())
