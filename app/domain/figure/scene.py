"""Where everything is: each frame's body placed on its supports, the surface and props around it.

A body is placed by dropping it onto what it rests on (`Frame.on`): lowered until the first of
its resting parts touches its support, nothing passing through. Sideways, the anchor joint keeps
one place in every frame, except against a wall, where the back touches the wall. Everything is
built facing right and mirrored at the end for a figure facing left.
"""

from dataclasses import dataclass, field

from app.domain.figure.body import (
    ARM,
    ARM_REACH,
    RADIUS,
    Body,
    Point,
    Segment,
    frame_body,
    pose_body,
)
from app.domain.figure.model import Figure, Frame, Pose
from app.domain.vocabulary import BodyPart, Prop, Side, Support, Surface

BED_TOP, BED_MATTRESS = 52.0, 16.0
CHAIR_SEAT = 39.5
SADDLE = 78.0
TREADMILL_DECK = 11.0
ELLIPTICAL_PLATE = 24.0
WATER_LEVEL = 112.0
WALL_X = -40.0
TOLERANCE = 3.0
"""How far a resting part may float above its support and still rest on it (cm)."""

PAIRED_PARTS: dict[BodyPart, tuple[str, ...]] = {
    BodyPart.hands: ("hand",),
    BodyPart.forearms: ("forearm",),
    BodyPart.knees: ("knee",),
    BodyPart.feet: ("foot",),
    BodyPart.heels: ("heel",),
    BodyPart.toes: ("toe",),
}
SIDED_PARTS: dict[BodyPart, tuple[str, Side]] = {
    BodyPart.left_knee: ("knee", Side.left),
    BodyPart.right_knee: ("knee", Side.right),
    BodyPart.left_foot: ("foot", Side.left),
    BodyPart.right_foot: ("foot", Side.right),
    BodyPart.left_heel: ("heel", Side.left),
    BodyPart.right_heel: ("heel", Side.right),
}
TRUNK_PARTS: dict[BodyPart, tuple[str, ...]] = {
    BodyPart.head: ("head",),
    BodyPart.back: ("pelvis", "thoracic"),
    BodyPart.front: ("lumbar", "thoracic"),
    BodyPart.pelvis: ("pelvis",),
}


def part_segments(body: Body, part: BodyPart) -> list[Segment]:
    """The capsules of a body part that rest on a support (one per side for a pair)."""
    if part in TRUNK_PARTS:
        return [s for s in body.all_segments() if s.name in TRUNK_PARTS[part]]
    if part in SIDED_PARTS:
        name, side = SIDED_PARTS[part]
        return [_limb_part(body, name, side)]
    (name,) = PAIRED_PARTS[part]
    return [_limb_part(body, name, side) for side in Side]


def _limb_part(body: Body, name: str, side: Side) -> Segment:
    if name in ("knee", "heel", "toe"):
        joint = body.joints[f"{name}_{side.value}"]
        radius = RADIUS["shank"] if name == "knee" else RADIUS["foot"]
        return Segment(name, joint, joint, radius, side)
    return body.segment(name, side)


@dataclass(frozen=True)
class Rect:
    left: float
    bottom: float
    right: float
    top: float

    def contains(self, point: Point, margin: float = 0.0) -> bool:
        x, y = point
        return (
            self.left + margin < x < self.right - margin
            and self.bottom + margin < y < self.top - margin
        )

    def mirrored(self) -> "Rect":
        return Rect(-self.right, self.bottom, -self.left, self.top)


@dataclass(frozen=True)
class PlacedFrame:
    frame: Frame
    body: Body
    helper: Body | None = None


@dataclass
class Scene:
    """An exercise's frames placed in one space, with what they rest on."""

    figure: Figure
    frames: list[PlacedFrame]
    surface_top: float
    bed: Rect | None = None
    seat: Rect | None = None
    wall_x: float | None = None
    water_level: float | None = None
    pool_floor: bool = True
    extras: dict[str, float] = field(default_factory=dict)

    def support_height(self, support: Support) -> float:
        if support is Support.floor:
            return 0.0
        if support is Support.seat:
            return self.seat.top if self.seat is not None else CHAIR_SEAT
        if support is Support.water:
            return self.water_level or WATER_LEVEL
        return self.surface_top


def surface_top(figure: Figure) -> float:
    if figure.surface is Surface.bed:
        return BED_TOP
    if Prop.treadmill in figure.props:
        return TREADMILL_DECK
    if Prop.elliptical in figure.props:
        return ELLIPTICAL_PLATE
    return 0.0


def build_scene(figure: Figure) -> Scene:
    seat_top = SADDLE if Prop.bicycle in figure.props else CHAIR_SEAT
    water = WATER_LEVEL if figure.surface is Surface.water else None
    scene = Scene(figure, [], surface_top(figure), water_level=water)
    if figure.surface is Surface.chair:
        scene.seat = Rect(-24.0, seat_top - 5.0, 20.0, seat_top)
    if figure.surface is Surface.wall or any(
        Support.wall in frame.rests.values() for frame in figure.frames
    ):
        scene.wall_x = WALL_X
    for frame in figure.frames:
        body = place(scene, frame, frame_body(frame))
        if scene.wall_x is None:
            body = body.moved(-anchor_point(body, figure.anchor)[0], 0.0)
        helper = helper_body(body, frame) if Prop.helper in figure.props else None
        scene.frames.append(PlacedFrame(frame, body, helper))
    if water is not None:
        scene.pool_floor = any(
            support is not Support.water
            for frame in figure.frames
            for support in frame.rests.values()
        )
    if figure.surface is Surface.bed:
        scene.bed = bed_under(scene)
    return mirrored(scene) if figure.facing.value == "left" else scene


def anchor_point(body: Body, anchor: str) -> Point:
    if anchor == "hip":
        return body.joints["hip"]
    name = {"knee": "knee", "foot": "ankle", "hand": "hand"}[anchor]
    left, right = body.joints[f"{name}_left"], body.joints[f"{name}_right"]
    return ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)


def place(scene: Scene, frame: Frame, body: Body) -> Body:
    """`body` settled onto its supports (turned a little, if need be, so that all its resting
    parts touch), and against the wall if it leans on one."""
    on_floor = [reach for reach in frame.reach if reach.floor_ahead is not None]
    resting: list[tuple[BodyPart, Support]] = [
        (p, s)
        for p, s in frame.rests.items()
        if s is not Support.wall and not (on_floor and p is BodyPart.hands)
    ]
    if resting:
        reaching = {side for reach in on_floor for side in ([reach.side] if reach.side else Side)}
        body = min(
            (
                dropped(scene, frame, body.turned(angle), resting, reaching)
                for angle in SETTLING_ANGLES
            ),
            key=lambda candidate: (round(_spread(scene, candidate, resting), 1), 0),
        )
    leaning = [part for part, support in frame.rests.items() if support is Support.wall]
    if leaning and scene.wall_x is not None:
        back = min(p[0] for part in leaning for s in part_segments(body, part) for p in s.points())
        body = body.moved(scene.wall_x - back, 0.0)
    for reach in on_floor:
        assert reach.floor_ahead is not None
        point = floor_point(body.joints["shoulder"], reach.floor_ahead, scene.surface_top)
        sides = [reach.side] if reach.side else list(Side)
        body = body.reaching(dict.fromkeys(sides, point))
    return body


HAND_ON_FLOOR = 4.0
"""How high a hand's end is above the surface it lies flat on."""


def floor_point(shoulder: Point, ahead: float, surface: float) -> Point:
    """Where a hand goes on the surface `ahead` cm in front of the shoulder, or as near there
    as a straight arm reaches."""
    height = shoulder[1] - (surface + HAND_ON_FLOOR)
    if abs(height) < ARM_REACH:
        most = (ARM_REACH**2 - height**2) ** 0.5 - 0.5
        ahead = max(-most, min(ahead, most))
    return (shoulder[0] + ahead, surface + HAND_ON_FLOOR)


SETTLING_ANGLES = sorted((step / 2 for step in range(-40, 41)), key=abs)
"""The turns tried (degrees, smallest first) to settle a body on more than one support."""


def dropped(
    scene: Scene,
    frame: Frame,
    body: Body,
    resting: list[tuple[BodyPart, Support]],
    reaching: set[Side],
) -> Body:
    """`body` lowered (or raised) until its resting parts are on their supports: none below
    its support, and nothing through the floor or the bed (the arms about to be put on the
    floor, `reaching`, aside)."""
    lift = max(scene.support_height(s) - _resting_level(body, p, s) for p, s in resting)
    floats = all(support is Support.water for _, support in resting)
    if not floats and scene.figure.surface is not Surface.chair:
        for segment in body.all_segments():
            if segment.side in reaching and segment.name in ARM:
                continue
            on_bed = scene.figure.surface is Surface.bed and (
                frame.hangs is None or segment.side is not frame.hangs
            )
            lift = max(lift, (scene.surface_top if on_bed else 0.0) - segment.lowest())
    return body.moved(0.0, lift)


def _spread(scene: Scene, body: Body, resting: list[tuple[BodyPart, Support]]) -> float:
    """How far the resting part furthest from its support is off it."""
    return max(
        abs(_segment_level(segment, support) - scene.support_height(support))
        for part, support in resting
        for segment in part_segments(body, part)
    )


def _segment_level(segment: Segment, support: Support) -> float:
    if support is Support.water:
        return (segment.start[1] + segment.end[1]) / 2
    return segment.lowest()


def _resting_level(body: Body, part: BodyPart, support: Support) -> float:
    return min(_segment_level(segment, support) for segment in part_segments(body, part))


HELPER_POSE = Pose.model_validate(
    {"pelvis": 90, "lumbar": 12, "thoracic": 12, "neck": 10, "hip": 25, "knee": 20, "ankle": 15}
)


def helper_body(patient: Body, frame: Frame) -> Body:
    """A second person standing at the patient's feet, facing them, holding the worked ankle."""
    side = frame.side or Side.right
    ankle = patient.joints[f"ankle_{side.value}"]
    standing = pose_body(HELPER_POSE)
    lowest = min(s.lowest() for s in standing.all_segments())
    shoulder = standing.joints["shoulder"]
    # Mirrored (facing left), the shoulder stands 30 cm beyond the ankle.
    dx = ankle[0] + 30.0 + shoulder[0]
    target = (dx - ankle[0], ankle[1] - 4.0 + lowest)
    held = pose_body(HELPER_POSE, hand_targets={Side.left: target, Side.right: target})
    return held.mirrored().moved(dx, -lowest)


def bed_under(scene: Scene) -> Rect:
    """A bed long enough for every frame's body (a hanging leg aside)."""
    xs = [
        x
        for placed in scene.frames
        for segment in placed.body.all_segments()
        if segment.side != placed.frame.hangs or segment.side is None
        for x, _ in segment.points()
        if _ >= BED_TOP - 2 * TOLERANCE
    ]
    return Rect(min(xs) - 8.0, BED_TOP - BED_MATTRESS, max(xs) + 8.0, BED_TOP)


def mirrored(scene: Scene) -> Scene:
    scene.frames = [
        PlacedFrame(
            placed.frame,
            placed.body.mirrored(),
            placed.helper.mirrored() if placed.helper else None,
        )
        for placed in scene.frames
    ]
    scene.bed = scene.bed.mirrored() if scene.bed else None
    scene.seat = scene.seat.mirrored() if scene.seat else None
    scene.wall_x = -scene.wall_x if scene.wall_x is not None else None
    return scene
