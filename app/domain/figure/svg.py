"""Draw a placed frame as a small, self-contained SVG in one house style.

Limbs are round-capped strokes as thick as the limb (filled, rounded). The limbs on the far side
are lighter; those on the near side carry a white edge so they read in front of the trunk. The
worked side is orange. From the second frame on, the previous pose shows faintly behind, and an
arrow runs from where the part that moves most was to where it is. No text is drawn (nothing
needs a font): the words are in `<title>` and `<desc>`.
"""

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from app.domain.figure.body import Body, Point, Segment
from app.domain.figure.model import Frame
from app.domain.figure.scene import (
    ELLIPTICAL_PLATE,
    SIDED_PARTS,
    TREADMILL_DECK,
    PlacedFrame,
    Rect,
    Scene,
)
from app.domain.vocabulary import Prop, Side

WIDTH_PX = 320
MARGIN = 10.0
INK = "#475569"
FAR = "#a3afbf"
WORKED = "#ea580c"
WORKED_FAR = "#fdba74"
GHOST = "#dbe2ea"
ARROW = "#0e7490"
GROUND = "#64748b"
FURNITURE = "#cbd5e1"
FURNITURE_EDGE = "#94a3b8"
STRAP = "#15803d"
WATER = "#bae6fd"
FAR_SHIFT = (-2.5, 2.0)
MOVING_JOINTS = ("heel", "toe", "ankle", "knee", "hand", "elbow")


def number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def xy(point: Point) -> str:
    """A model point (y up) as SVG coordinates (y down)."""
    return f"{number(point[0])},{number(-point[1])}"


def stroke_line(a: Point, b: Point, width: float, colour: str) -> str:
    return (
        f'<path d="M{xy(a)}L{xy(b)}" stroke="{colour}" stroke-width="{number(width)}"/>'
        if a != b
        else f'<circle cx="{number(a[0])}" cy="{number(-a[1])}" r="{number(width / 2)}" '
        f'fill="{colour}"/>'
    )


def view_box(scene: Scene) -> tuple[float, float, float, float]:
    points = [p for placed in scene.frames for p in _frame_points(placed)]
    points += [p for arrow in arrows(scene) if arrow is not None for p in arrow.points()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    left, right = min(xs) - MARGIN, max(xs) + MARGIN
    bottom = min([*ys, 0.0 if scene.pool_floor else min(ys)]) - MARGIN
    top = max(ys) + MARGIN
    if scene.bed is not None:
        left, right = min(left, scene.bed.left - 4), max(right, scene.bed.right + 4)
    if scene.wall_x is not None:
        left, right = min(left, scene.wall_x - 14), max(right, scene.wall_x + 14)
    if scene.water_level is not None:
        top = max(top, scene.water_level + MARGIN)
    width, height = right - left, top - bottom
    if height < width * 0.5:
        pad = (width * 0.5 - height) / 2
        top, bottom = top + pad, bottom - pad
    if width < height * 0.8:
        pad = (height * 0.8 - width) / 2
        left, right = left - pad, right + pad
    width, height = right - left, top - bottom
    return (left, -top, width, height)


def _frame_points(placed: PlacedFrame) -> Iterable[Point]:
    for segment in placed.body.all_segments():
        yield from segment.points()
    if placed.helper is not None:
        for segment in placed.helper.all_segments():
            yield from segment.points()


def render_frame(scene: Scene, index: int, title: str, description: str) -> str:
    """Frame `index` of `scene` as an SVG document."""
    left, top, width, height = view_box(scene)
    placed = scene.frames[index]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{number(left)} {number(top)} '
        f'{number(width)} {number(height)}" width="{WIDTH_PX}" '
        f'height="{round(WIDTH_PX * height / width)}" role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(description)}</desc>',
        f'<defs><marker id="a" viewBox="0 0 10 10" refX="6" refY="5" markerWidth="4" '
        f'markerHeight="4" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{ARROW}"/></marker></defs>',
        f'<rect x="{number(left)}" y="{number(top)}" width="{number(width)}" '
        f'height="{number(height)}" fill="#fff"/>',
        *surfaces_behind(scene, (left, top, width, height)),
        *props_behind(scene, placed),
        '<g fill="none" stroke-linecap="round" stroke-linejoin="round">',
    ]
    if index > 0:
        parts += ghost(scene.frames[index - 1].body)
    if placed.helper is not None:
        parts += figure_strokes(placed.helper, None, helper=True)
    parts += figure_strokes(placed.body, placed.frame.side)
    parts += props_in_front(scene, placed)
    arrow = arrows(scene)[index]
    if arrow is not None:
        parts.append(arrow.svg())
    parts += ["</g>", *surfaces_in_front(scene, (left, top, width, height)), "</svg>"]
    return "".join(parts)


def figure_strokes(body: Body, worked: Side | None, *, helper: bool = False) -> list[str]:
    near = body.near
    far = Side.left if near is Side.right else Side.right
    ink, far_ink = ("#94a3b8", "#cbd5e1") if helper else (INK, FAR)

    def colour(segment: Segment) -> str:
        highlight = worked is not None and segment.side is worked and _is_leg(segment)
        if segment.side is far:
            return WORKED_FAR if highlight else far_ink
        return WORKED if highlight else ink

    strokes = [
        stroke_line(_behind(s.start), _behind(s.end), 2 * s.radius, colour(s))
        for s in _limbs(body, far)
    ]
    strokes += [
        stroke_line(s.start, s.end, 2 * s.radius, ink) for s in body.segments if s.side is None
    ]
    strokes.append(stroke_line(body.head.start, body.head.end, 2 * body.head.radius, ink))
    for segment in _limbs(body, near):
        strokes.append(stroke_line(segment.start, segment.end, 2 * segment.radius + 2.2, "#fff"))
    strokes += [stroke_line(s.start, s.end, 2 * s.radius, colour(s)) for s in _limbs(body, near)]
    return strokes


def _behind(point: Point) -> Point:
    """Where a far-side point is drawn: a little up and back, so a limb exactly behind its
    near-side twin still shows."""
    return (point[0] + FAR_SHIFT[0], point[1] + FAR_SHIFT[1])


def _is_leg(segment: Segment) -> bool:
    return segment.name in ("thigh", "shank", "foot")


def _limbs(body: Body, side: Side) -> list[Segment]:
    """A side's leg, then its arm: the arm is drawn over the leg."""
    order = ("thigh", "shank", "foot", "upper_arm", "forearm", "hand")
    return sorted((s for s in body.segments if s.side is side), key=lambda s: order.index(s.name))


def ghost(body: Body) -> list[str]:
    return [stroke_line(s.start, s.end, 2 * s.radius, GHOST) for s in body.all_segments()]


@dataclass(frozen=True)
class Arrow:
    """A movement arrow: straight (`via` None) or a quadratic curve through `via`."""

    start: Point
    end: Point
    via: Point | None = None

    def points(self) -> list[Point]:
        return [self.start, self.end, *([self.via] if self.via else [])]

    def svg(self) -> str:
        curve = f"Q{xy(self.via)} " if self.via else "L"
        return (
            f'<path d="M{xy(self.start)}{curve}{xy(self.end)}" stroke="{ARROW}" '
            f'stroke-width="2.6" marker-end="url(#a)"/>'
        )


def movement_arrow(before: PlacedFrame, after: PlacedFrame) -> Arrow | None:
    """An arrow from where the part that moved most was to where it is now: curved for a long
    move, straight beside the part for a short one. A frame marked `press` (tightening, with no
    visible move) gets an arrow pressing the belly in instead."""
    if after.frame.press:
        return pressing_arrow(after.body)
    resting = resting_joints(after.frame)
    names = [
        f"{joint}_{side.value}"
        for joint in MOVING_JOINTS
        for side in Side
        if (joint, side) not in resting
    ]
    names += ["head", "shoulder", "hip", "waist"]

    def moved(name: str) -> float:
        return math.dist(before.body.joints[name], after.body.joints[name])

    name = max(names, key=moved)
    start, end = before.body.joints[name], after.body.joints[name]
    distance = math.dist(start, end)
    if distance < 3.0:
        return None
    if distance < 20.0:
        return straight_arrow(start, end)
    centre = after.body.joints["waist"]
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    normal = (-(end[1] - start[1]) / distance, (end[0] - start[0]) / distance)
    if (mid[0] - centre[0]) * normal[0] + (mid[1] - centre[1]) * normal[1] < 0:
        normal = (-normal[0], -normal[1])
    bulge = min(distance * 0.35, 18.0) + 6.0
    offset = 9.0
    return Arrow(
        (start[0] + normal[0] * offset, start[1] + normal[1] * offset),
        (end[0] + normal[0] * offset, end[1] + normal[1] * offset),
        (mid[0] + normal[0] * (offset + bulge), mid[1] + normal[1] * (offset + bulge)),
    )


RESTING_JOINTS: dict[str, tuple[str, ...]] = {
    "hands": ("hand",),
    "forearms": ("hand", "elbow"),
    "knees": ("knee",),
    "knee": ("knee",),
    "feet": ("toe", "heel", "ankle"),
    "foot": ("toe", "heel", "ankle"),
    "heels": ("heel", "ankle"),
    "heel": ("heel", "ankle"),
    "toes": ("toe",),
}
"""The joints of each resting part (a pair's, or one side's)."""


def resting_joints(frame: Frame) -> set[tuple[str, Side]]:
    """The joints that rest on a support in `frame`: a move there is not what the frame shows
    (the hands put down ahead as the chest lifts)."""
    resting: set[tuple[str, Side]] = set()
    for part in frame.rests:
        if part in SIDED_PARTS:
            name, side = SIDED_PARTS[part]
            resting |= {(joint, side) for joint in RESTING_JOINTS[name]}
        elif part.value in RESTING_JOINTS:
            resting |= {(joint, side) for joint in RESTING_JOINTS[part.value] for side in Side}
    return resting


def straight_arrow(start: Point, end: Point) -> Arrow:
    """A short move: a straight arrow beside the part, as long as the move (at least 12)."""
    distance = math.dist(start, end)
    unit = ((end[0] - start[0]) / distance, (end[1] - start[1]) / distance)
    a = (start[0] - unit[1] * 10, start[1] + unit[0] * 10)
    length = max(distance, 12.0)
    return Arrow(a, (a[0] + unit[0] * length, a[1] + unit[1] * length))


def pressing_arrow(body: Body) -> Arrow:
    """For a hold with no visible movement (tightening the stomach): an arrow pressing the
    belly in towards the back."""
    centre = body.joints["waist"]
    axis = (body.joints["shoulder"][0] - centre[0], body.joints["shoulder"][1] - centre[1])
    length = math.hypot(*axis) or 1.0
    # The front of the body is a quarter turn clockwise from its axis (anticlockwise mirrored).
    turn = 1 if body.near is Side.right else -1
    front = (turn * axis[1] / length, -turn * axis[0] / length)
    return Arrow(
        (centre[0] + front[0] * 34, centre[1] + front[1] * 34),
        (centre[0] + front[0] * 17, centre[1] + front[1] * 17),
    )


def arrows(scene: Scene) -> list[Arrow | None]:
    """Each frame's arrow (none for the first: nothing moved yet)."""
    return [None] + [
        movement_arrow(before, after) for before, after in itertools.pairwise(scene.frames)
    ]


def surfaces_behind(scene: Scene, box: tuple[float, float, float, float]) -> list[str]:
    left, top, width, height = box
    parts: list[str] = []
    if scene.water_level is not None:
        bottom = 0.0 if scene.pool_floor else -(top + height)
        parts.append(
            f'<rect x="{number(left)}" y="{number(-scene.water_level)}" width="{number(width)}" '
            f'height="{number(scene.water_level - bottom)}" fill="{WATER}" opacity=".5"/>'
        )
    if scene.wall_x is not None:
        wall_left = scene.wall_x - 12 if scene.wall_x < 0 else scene.wall_x
        parts.append(
            f'<rect x="{number(wall_left)}" y="{number(top)}" width="12" '
            f'height="{number(height)}" fill="{FURNITURE}"/>'
        )
    if scene.bed is not None:
        parts += bed(scene.bed)
    if scene.seat is not None and Prop.bicycle not in scene.figure.props:
        parts += chair(scene.seat)
    return parts


def surfaces_in_front(scene: Scene, box: tuple[float, float, float, float]) -> list[str]:
    left, top, width, height = box
    parts: list[str] = []
    if scene.water_level is not None:
        level = -scene.water_level
        parts.append(
            f'<path d="M{number(left)},{number(level)}h{number(width)}" stroke="#0284c7" '
            f'stroke-width="1.5" opacity=".7"/>'
        )
    if scene.pool_floor:
        bottom = top + height
        parts.append(
            f'<rect x="{number(left)}" y="0" width="{number(width)}" height="{number(bottom)}" '
            f'fill="#e2e8f0"/><path d="M{number(left)},0h{number(width)}" stroke="{GROUND}" '
            f'stroke-width="1.5"/>'
        )
    return parts


def bed(rect: Rect) -> list[str]:
    legs = "".join(
        f'<rect x="{number(x)}" y="{number(-rect.bottom)}" width="5" '
        f'height="{number(rect.bottom)}" fill="{FURNITURE_EDGE}"/>'
        for x in (rect.left + 4, rect.right - 9)
    )
    return [
        legs,
        f'<rect x="{number(rect.left)}" y="{number(-rect.top)}" '
        f'width="{number(rect.right - rect.left)}" height="{number(rect.top - rect.bottom)}" '
        f'rx="5" fill="{FURNITURE}" stroke="{FURNITURE_EDGE}"/>',
    ]


def chair(seat: Rect) -> list[str]:
    back_x = seat.left if seat.left < -seat.right else seat.right - 4
    return [
        f'<g fill="{FURNITURE_EDGE}"><rect x="{number(seat.left)}" y="{number(-seat.top)}" '
        f'width="{number(seat.right - seat.left)}" height="5" rx="2"/>'
        f'<rect x="{number(seat.left + 2)}" y="{number(-seat.bottom)}" width="4" '
        f'height="{number(seat.bottom)}"/><rect x="{number(seat.right - 6)}" '
        f'y="{number(-seat.bottom)}" width="4" height="{number(seat.bottom)}"/>'
        f'<rect x="{number(back_x)}" y="{number(-seat.top - 45)}" width="4" height="45"/></g>'
    ]


def props_behind(scene: Scene, placed: PlacedFrame) -> list[str]:
    props = scene.figure.props
    body = placed.body
    parts: list[str] = []
    edge = f'fill="none" stroke="{FURNITURE_EDGE}" stroke-linecap="round"'
    if Prop.bicycle in props:
        hip = body.joints["hip"]
        feet = [body.joints[f"toe_{s.value}"] for s in Side]
        hands = body.joints["hand_right"]
        crank = ((feet[0][0] + feet[1][0]) / 2, (feet[0][1] + feet[1][1]) / 2)
        parts.append(
            f'<g {edge} stroke-width="4"><path d="M{xy((hip[0] - 10, hip[1] - 11))}'
            f"h18M{xy((hip[0] - 1, hip[1] - 11))}L{xy(crank)}L{xy((crank[0] + 40, 2))}"
            f"M{xy((crank[0] - 35, 2))}h80M{xy(crank)}L{xy((hands[0] - 6, hands[1] - 6))}"
            f'L{xy(hands)}"/></g>'
        )
        parts += [
            f'<path d="M{xy(crank)}L{xy(foot)}" stroke="{GROUND}" stroke-width="2.5"/>'
            for foot in feet
        ]
    if Prop.treadmill in props:
        toe = max(body.joints[f"toe_{s.value}"][0] for s in Side)
        parts.append(
            f'<g {edge} stroke-width="4"><path d="M{xy((toe - 110, TREADMILL_DECK - 4))}'
            f'h140M{xy((toe + 22, TREADMILL_DECK))}l14,-96h-14"/></g>'
        )
    if Prop.elliptical in props:
        hand = body.joints["hand_right"]
        base = body.joints["hip"][0]
        parts.append(
            f'<g {edge} stroke-width="4"><path d="M{xy((base - 50, 3))}h110'
            f"M{xy((base + 55, 3))}L{xy((hand[0] + 4, hand[1] - 20))}L{xy(hand)}"
            f'M{xy((base - 30, ELLIPTICAL_PLATE - 3))}h62"/></g>'
        )
    if Prop.pillow in props:
        head = body.head.start
        bottom = scene.surface_top
        height = max(head[1] - body.head.radius - bottom, 4.0)
        parts.append(
            f'<rect x="{number(head[0] - 15)}" y="{number(-(bottom + height))}" width="30" '
            f'height="{number(height)}" rx="4" fill="#e0e7ff" stroke="#a5b4fc"/>'
        )
    if Prop.counter in props:
        hand = body.joints["hand_right"]
        parts.append(
            f'<rect x="{number(hand[0] - 6)}" y="{number(-hand[1])}" width="40" '
            f'height="{number(hand[1])}" fill="{FURNITURE}" stroke="{FURNITURE_EDGE}"/>'
        )
    if Prop.ball in props:
        heel = body.joints["heel_right"]
        parts.append(
            f'<circle cx="{number(heel[0])}" cy="{number(-(heel[1] - 16))}" r="13" '
            f'fill="#fde68a" stroke="#f59e0b"/>'
        )
    return parts


def props_in_front(scene: Scene, placed: PlacedFrame) -> list[str]:
    props = scene.figure.props
    body = placed.body
    if Prop.strap not in props and Prop.towel not in props:
        return []
    side = placed.frame.side or Side.right
    heel, toe = body.joints[f"heel_{side.value}"], body.joints[f"toe_{side.value}"]
    sole = ((heel[0] + toe[0] * 2) / 3, (heel[1] + toe[1] * 2) / 3)
    width = "1.8" if Prop.strap in props else "4"
    return [
        f'<path d="M{xy(body.joints[f"hand_{s.value}"])}L{xy(sole)}" stroke="{STRAP}" '
        f'stroke-width="{width}"/>'
        for s in Side
    ]
