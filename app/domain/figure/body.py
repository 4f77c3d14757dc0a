"""From a pose to points: the body's joints in the plane, with the hip joint at the origin.

Lengths are in centimetres of a 170 cm adult. Each segment is drawn as a capsule (a rounded
line of its own thickness), so a segment's outline is its two ends and its radius.
"""

import math
from dataclasses import dataclass, replace

from app.domain.figure.model import Frame, Pose, Reach
from app.domain.vocabulary import Side

Point = tuple[float, float]

PELVIS, LUMBAR, THORACIC, NECK = 11.0, 17.0, 25.0, 7.0
HEAD_RADIUS = 10.5
UPPER_ARM, FOREARM, HAND = 26.5, 22.5, 5.0
ARM_REACH = UPPER_ARM + FOREARM + HAND * 0.6
THIGH, SHANK = 43.0, 42.0
ANKLE_HEIGHT, HEEL_BACK, TOE_FORWARD = 5.5, 4.5, 16.0
RADIUS: dict[str, float] = {
    "pelvis": 10.5,
    "lumbar": 9.5,
    "thoracic": 11.5,
    "neck": 4.5,
    "upper_arm": 4.3,
    "forearm": 3.6,
    "thigh": 7.0,
    "shank": 5.0,
    "foot": 3.0,
}


def direction(degrees: float) -> Point:
    radians = math.radians(degrees)
    return (math.cos(radians), math.sin(radians))


def along(start: Point, degrees: float, length: float) -> Point:
    dx, dy = direction(degrees)
    return (start[0] + dx * length, start[1] + dy * length)


def turn(point: Point, degrees: float) -> Point:
    """`point` turned anticlockwise about the origin."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (point[0] * cos - point[1] * sin, point[0] * sin + point[1] * cos)


@dataclass(frozen=True)
class Segment:
    """A capsule between two points. `side` is None for the trunk and head."""

    name: str
    start: Point
    end: Point
    radius: float
    side: Side | None = None

    def lowest(self) -> float:
        return min(self.start[1], self.end[1]) - self.radius

    def points(self) -> list[Point]:
        """The outline's extremes in each direction, enough to bound and place it."""
        r = self.radius
        return [
            (x + dx, y + dy)
            for x, y in (self.start, self.end)
            for dx, dy in ((r, 0), (-r, 0), (0, r), (0, -r))
        ]

    def moved(self, dx: float, dy: float) -> "Segment":
        return replace(
            self,
            start=(self.start[0] + dx, self.start[1] + dy),
            end=(self.end[0] + dx, self.end[1] + dy),
        )

    def turned(self, degrees: float) -> "Segment":
        return replace(self, start=turn(self.start, degrees), end=turn(self.end, degrees))

    def mirrored(self) -> "Segment":
        return replace(self, start=(-self.start[0], self.start[1]), end=(-self.end[0], self.end[1]))


@dataclass(frozen=True)
class Body:
    """A posed body: named joints and the capsules drawn between them."""

    joints: dict[str, Point]
    segments: list[Segment]
    head: Segment
    """A capsule of length zero: the head's circle."""
    arm_angles: dict[Side, tuple[float, float]]
    """Each arm's (shoulder, elbow) angles, as posed or as solved to reach a landmark."""
    near: Side = Side.right
    """The side towards the viewer: facing right, a figure shows its right side."""

    def all_segments(self) -> list[Segment]:
        return [*self.segments, self.head]

    def moved(self, dx: float, dy: float) -> "Body":
        return Body(
            {name: (x + dx, y + dy) for name, (x, y) in self.joints.items()},
            [segment.moved(dx, dy) for segment in self.segments],
            self.head.moved(dx, dy),
            self.arm_angles,
            self.near,
        )

    def turned(self, degrees: float) -> "Body":
        """The whole body turned about the hip joint (the origin)."""
        return Body(
            {name: turn(point, degrees) for name, point in self.joints.items()},
            [segment.turned(degrees) for segment in self.segments],
            self.head.turned(degrees),
            self.arm_angles,
            self.near,
        )

    def mirrored(self) -> "Body":
        return Body(
            {name: (-x, y) for name, (x, y) in self.joints.items()},
            [segment.mirrored() for segment in self.segments],
            self.head.mirrored(),
            self.arm_angles,
            Side.left if self.near is Side.right else Side.right,
        )

    def reaching(self, targets: dict[Side, Point]) -> "Body":
        """The same body, the arms named solved to put their hands on these points (a body
        facing right, already placed)."""
        shoulder, waist = self.joints["shoulder"], self.joints["waist"]
        chest_axis = math.degrees(math.atan2(shoulder[1] - waist[1], shoulder[0] - waist[0]))
        joints = dict(self.joints)
        segments = [s for s in self.segments if not (s.side in targets and s.name in ARM)]
        arm_angles = dict(self.arm_angles)
        for side, target in targets.items():
            angles = solve_arm(shoulder, target, chest_axis)
            arm_angles[side] = angles
            arm_joints, arm_segments = _arm(shoulder, chest_axis, angles, side)
            joints |= arm_joints
            segments += arm_segments
        return Body(joints, segments, self.head, arm_angles, self.near)

    def segment(self, name: str, side: Side | None = None) -> Segment:
        return next(s for s in self.segments if s.name == name and s.side == side)


def rolled(point: Point, axis_degrees: float, roll: float) -> Point:
    """A leg point (relative to the hip) seen after the legs turn `roll` degrees about the
    body's long axis: what lies across the axis is foreshortened."""
    ux, uy = direction(axis_degrees)
    along_axis = point[0] * ux + point[1] * uy
    across = -point[0] * uy + point[1] * ux
    across *= math.cos(math.radians(roll))
    return (ux * along_axis - uy * across, uy * along_axis + ux * across)


def pose_body(
    pose: Pose, reach: list[Reach] | None = None, hand_targets: dict[Side, Point] | None = None
) -> Body:
    """The body in `pose`, hips at the origin, facing right. Arms named in `reach` (or given a
    point in `hand_targets`) are solved to put their hands there."""
    joints: dict[str, Point] = {"hip": (0.0, 0.0)}
    segments: list[Segment] = []
    axis = pose.pelvis
    sacrum = along((0.0, 0.0), axis, PELVIS)
    lumbar_axis = axis - pose.lumbar
    waist = along(sacrum, lumbar_axis, LUMBAR)
    chest_axis = lumbar_axis - pose.thoracic
    shoulder = along(waist, chest_axis, THORACIC)
    head_axis = chest_axis - pose.neck
    neck_top = along(shoulder, head_axis, NECK)
    head_centre = along(neck_top, head_axis, HEAD_RADIUS * 0.8)
    ribs = along(along(waist, chest_axis, THORACIC * 0.3), chest_axis - 90, RADIUS["thoracic"])
    joints |= {
        "sacrum": sacrum,
        "waist": waist,
        "ribs": ribs,
        "shoulder": shoulder,
        "head": head_centre,
    }
    segments += [
        Segment("pelvis", (0.0, 0.0), sacrum, RADIUS["pelvis"]),
        Segment("lumbar", sacrum, waist, RADIUS["lumbar"]),
        Segment("thoracic", waist, shoulder, RADIUS["thoracic"]),
        Segment("neck", shoulder, neck_top, RADIUS["neck"]),
    ]
    for side in Side:
        leg = _leg(pose, side, axis)
        joints |= {f"{name}_{side.value}": point for name, point in leg.items()}
        segments += [
            Segment("thigh", leg["hip"], leg["knee"], RADIUS["thigh"], side),
            Segment("shank", leg["knee"], leg["ankle"], RADIUS["shank"], side),
            Segment("foot", leg["heel"], leg["toe"], RADIUS["foot"], side),
        ]
    arm_angles: dict[Side, tuple[float, float]] = {}
    for side in Side:
        target = (hand_targets or {}).get(side) or reach_target(joints, side, reach)
        angles = (
            (float(pose.shoulder.of(side)), float(pose.elbow.of(side)))
            if target is None
            else solve_arm(shoulder, target, chest_axis)
        )
        arm_angles[side] = angles
        arm_joints, arm_segments = _arm(shoulder, chest_axis, angles, side)
        joints |= arm_joints
        segments += arm_segments
    head = Segment("head", head_centre, head_centre, HEAD_RADIUS)
    return Body(joints, segments, head, arm_angles)


ARM = ("upper_arm", "forearm", "hand")


def _arm(
    shoulder: Point, chest_axis: float, angles: tuple[float, float], side: Side
) -> tuple[dict[str, Point], list[Segment]]:
    shoulder_angle, elbow_angle = angles
    upper = chest_axis + 180 + shoulder_angle
    elbow = along(shoulder, upper, UPPER_ARM)
    wrist = along(elbow, upper + elbow_angle, FOREARM)
    hand = along(elbow, upper + elbow_angle, FOREARM + HAND * 0.6)
    return (
        {f"elbow_{side.value}": elbow, f"hand_{side.value}": hand},
        [
            Segment("upper_arm", shoulder, elbow, RADIUS["upper_arm"], side),
            Segment("forearm", elbow, wrist, RADIUS["forearm"], side),
            Segment("hand", wrist, hand, HAND * 0.8, side),
        ],
    )


def _leg(pose: Pose, side: Side, axis: float) -> dict[str, Point]:
    thigh = axis + 180 + pose.hip.of(side)
    shank = thigh - pose.knee.of(side)
    foot = shank + 90 + pose.ankle.of(side)
    knee = along((0.0, 0.0), thigh, THIGH)
    ankle = along(knee, shank, SHANK)
    sole = along(ankle, foot - 90, ANKLE_HEIGHT)
    points = {
        "hip": (0.0, 0.0),
        "knee": knee,
        "ankle": ankle,
        "heel": along(sole, foot, -HEEL_BACK),
        "toe": along(sole, foot, TOE_FORWARD),
    }
    roll = pose.roll.of(side)
    if roll:
        points = {name: rolled(point, axis, roll) for name, point in points.items()}
    return points


def landmark(joints: dict[str, Point], side: Side, part: str) -> Point:
    hip, knee = joints[f"hip_{side.value}"], joints[f"knee_{side.value}"]
    ankle = joints[f"ankle_{side.value}"]
    if part == "thigh":
        return (hip[0] + (knee[0] - hip[0]) * 0.78, hip[1] + (knee[1] - hip[1]) * 0.78)
    if part == "shin":
        return ((knee[0] + ankle[0]) / 2, (knee[1] + ankle[1]) / 2)
    if part == "foot":
        return joints[f"toe_{side.value}"]
    if part == "ribs":
        return joints["ribs"]
    return joints[f"{part}_{side.value}"]


def reach_target(joints: dict[str, Point], side: Side, reach: list[Reach] | None) -> Point | None:
    return next(
        (
            landmark(joints, item.to.side, item.to.part)
            for item in reach or []
            if item.to is not None and item.side in (None, side)
        ),
        None,
    )


def solve_arm(shoulder: Point, target: Point, chest_axis: float) -> tuple[float, float]:
    """Two-link inverse kinematics: the shoulder and elbow angles that put the hand (the end of
    the forearm and half a hand) on `target`, the elbow bending the way elbows bend."""
    upper, lower = UPPER_ARM, FOREARM + HAND * 0.6
    dx, dy = target[0] - shoulder[0], target[1] - shoulder[1]
    distance = min(max(math.hypot(dx, dy), abs(upper - lower) + 1.0), upper + lower - 0.01)
    to_target = math.degrees(math.atan2(dy, dx))
    at_shoulder = math.degrees(
        math.acos((upper**2 + distance**2 - lower**2) / (2 * upper * distance))
    )
    at_elbow = math.degrees(math.acos((upper**2 + lower**2 - distance**2) / (2 * upper * lower)))
    elbow = 180 - at_elbow
    upper_direction = to_target - at_shoulder
    shoulder_angle = (upper_direction - (chest_axis + 180)) % 360
    if shoulder_angle > 240:
        shoulder_angle -= 360
    return shoulder_angle, elbow


def frame_body(frame: Frame) -> Body:
    return pose_body(frame.pose, frame.reach)
