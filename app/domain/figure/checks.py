"""What a program can check about an exercise's figure: that it is a body, resting where it
should, doing what the exercise says. Each check returns sentences naming what is wrong."""

import itertools
import math
import re

from app.domain.exercise import Exercise
from app.domain.figure.body import Body
from app.domain.figure.model import JOINT_RANGES, Frame
from app.domain.figure.scene import (
    TOLERANCE,
    PlacedFrame,
    Scene,
    build_scene,
    part_segments,
)
from app.domain.vocabulary import BodyPart, Position, Side, SpinalMotion, Support

LYING_PARTS = (BodyPart.back, BodyPart.front)
LYING_POSITIONS = (Position.supine, Position.prone)
MAX_LYING_TILT = 25
"""Degrees from level a lying trunk (pelvis to waist) may be."""
FLEXION_AT_LEAST = 15
"""The lumbar flexion (or extension) a flexion (extension) exercise's figure must reach, in
degrees, beyond its first frame."""
SIDE_WORD = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def figure_problems(exercise: Exercise) -> list[str]:
    """Everything wrong with the exercise's figure (none when it has no figure)."""
    figure = exercise.figure
    if figure is None:
        return []
    scene = build_scene(figure)
    problems: list[str] = []
    for placed in scene.frames:
        problems += [f"{placed.frame.name}: {p}" for p in frame_problems(scene, placed)]
    problems += lying_problems(exercise, scene)
    problems += motion_problems(exercise)
    problems += side_problems(exercise)
    return problems


def frame_problems(scene: Scene, placed: PlacedFrame) -> list[str]:
    problems = arm_range_problems(placed.body)
    problems += resting_problems(scene, placed)
    problems += penetration_problems(scene, placed)
    return problems


def arm_range_problems(body: Body) -> list[str]:
    """Arms solved to reach a landmark must still bend as arms do."""
    problems = []
    for side, angles in body.arm_angles.items():
        for joint, angle in zip(("shoulder", "elbow"), angles, strict=True):
            low, high = JOINT_RANGES[joint]
            if not low - 0.5 <= angle <= high + 0.5:
                problems.append(f"{joint} ({side.value}) reaches {angle:.0f} degrees")
    return problems


def resting_problems(scene: Scene, placed: PlacedFrame) -> list[str]:
    """Each resting part touches its support (each side of a pair)."""
    problems = []
    for part, support in placed.frame.rests.items():
        if support is Support.wall:
            continue
        height = scene.support_height(support)
        for segment in part_segments(placed.body, part):
            if support is Support.water:
                level = (segment.start[1] + segment.end[1]) / 2
                gap = abs(level - height)
            else:
                gap = segment.lowest() - height
            if gap > TOLERANCE or gap < -TOLERANCE:
                where = f" ({segment.side.value})" if segment.side else ""
                problems.append(f"{part.value}{where} is {gap:.1f} cm off the {support.value}")
    return problems


def penetration_problems(scene: Scene, placed: PlacedFrame) -> list[str]:
    """Nothing goes through the floor, the bed, the seat or the wall."""
    problems = []
    for segment in placed.body.all_segments():
        hanging = placed.frame.hangs is not None and segment.side is placed.frame.hangs
        name = segment.name + (f" ({segment.side.value})" if segment.side else "")
        if scene.pool_floor and segment.lowest() < -TOLERANCE:
            problems.append(f"{name} goes {-segment.lowest():.1f} cm through the floor")
        solids = [s for s in (scene.bed, scene.seat) if s is not None]
        for solid in solids:
            if hanging and solid is scene.bed:
                continue
            if any(solid.contains(point, TOLERANCE) for point in segment.points()):
                problems.append(f"{name} goes into the {'bed' if solid is scene.bed else 'seat'}")
        if scene.wall_x is not None:
            into = [p for p in segment.points() if _behind_wall(scene.wall_x, p[0])]
            if into:
                problems.append(f"{name} goes into the wall")
    return problems


def _behind_wall(wall_x: float, x: float) -> bool:
    return x < wall_x - TOLERANCE if wall_x < 0 else x > wall_x + TOLERANCE


def lying_problems(exercise: Exercise, scene: Scene) -> list[str]:
    """A figure resting on its back or front lies: its lower trunk is level. An exercise done
    lying shows it lying in at least one frame."""
    problems = []
    lying_frames = 0
    for placed in scene.frames:
        if not any(
            placed.frame.rests.get(part) not in (None, Support.wall) for part in LYING_PARTS
        ):
            continue
        lying_frames += 1
        hip, waist = placed.body.joints["hip"], placed.body.joints["waist"]
        dx, dy = waist[0] - hip[0], waist[1] - hip[1]
        if abs(dy) > abs(dx) * _tan(MAX_LYING_TILT):
            problems.append(f"{placed.frame.name}: rests on its back or front but does not lie")
    if exercise.position in LYING_POSITIONS and not lying_frames:
        problems.append(f"a {exercise.position.value} exercise shows no frame lying down")
    return problems


def _tan(degrees: float) -> float:
    return math.tan(math.radians(degrees))


def motion_problems(exercise: Exercise) -> list[str]:
    """A flexion exercise's figure flexes the lumbar spine; an extension one extends it."""
    assert exercise.figure is not None
    frames = exercise.figure.frames
    start = frames[0].pose.lumbar
    if exercise.spinal_motion is SpinalMotion.flexion:
        most = max(frame.pose.lumbar for frame in frames)
        if most - start < FLEXION_AT_LEAST:
            return [f"a flexion exercise, but the lumbar spine flexes {most - start} degrees"]
    if exercise.spinal_motion is SpinalMotion.extension:
        most = min(frame.pose.lumbar for frame in frames)
        if start - most < FLEXION_AT_LEAST:
            return [f"an extension exercise, but the lumbar spine extends {start - most} degrees"]
    return []


def side_problems(exercise: Exercise) -> list[str]:
    """Left and right as the steps say; an exercise done on each side shows the side worked,
    and the worked side is the one that moves."""
    assert exercise.figure is not None
    problems = []
    frames = exercise.figure.frames
    for previous, frame in itertools.pairwise(frames):
        said = SIDE_WORD.search(exercise.steps[frame.step - 1])
        if said and frame.side is not None and frame.side.value != said.group(1).lower():
            problems.append(
                f"{frame.name}: step {frame.step} says {said.group(1)}, the figure shows "
                f"{frame.side.value}"
            )
        if said and frame.side is None:
            problems.append(f"{frame.name}: step {frame.step} names a side the figure does not")
        if (
            said
            and frame.side is not None
            and leg_change(previous, frame, frame.side)
            < leg_change(previous, frame, other(frame.side))
        ):
            problems.append(f"{frame.name}: the {frame.side.value} side is worked, not moved")
    if exercise.per_side and not any(frame.side for frame in frames):
        problems.append("done on each side, but no frame shows which")
    return problems


def leg_change(before: Frame, after: Frame, side: Side) -> int:
    return sum(
        abs(getattr(after.pose, joint).of(side) - getattr(before.pose, joint).of(side))
        for joint in ("hip", "knee", "ankle", "roll")
    )


def other(side: Side) -> Side:
    return Side.left if side is Side.right else Side.right
