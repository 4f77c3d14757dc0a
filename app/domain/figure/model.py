"""The figure an exercise is drawn from: a body's key frames, as joint angles, on a surface.

A figure is seen from the side. Angles are degrees. `pelvis` is the absolute direction of the
body's long axis (from the hips towards the head), counter-clockwise from "to the right" in a
figure facing right: 90 is upright, 180 lying with the head to the left. The body's front is a
quarter turn clockwise from that axis, so at 180 the figure lies face up. Every other angle is a
joint's, relative to the segment above it, positive in the direction anatomy calls flexion
(knees: bent; ankles: toes pulled up; elbows: bent; shoulders and hips: limb forwards); `roll`
turns a leg about the body's long axis, out to its side (both legs rolled alike drop the knees
to one side, as in a trunk rotation); seen from the side, a rolled leg is foreshortened.
Facing left mirrors the drawing, never the angles.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.domain.strict import JsonBool, NumberOnly
from app.domain.vocabulary import BodyPart, Facing, Prop, Side, Support, Surface


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


JOINT_RANGES: dict[str, tuple[int, int]] = {
    "lumbar": (-35, 60),
    "thoracic": (-25, 45),
    "neck": (-45, 60),
    "shoulder": (-60, 180),
    "elbow": (0, 150),
    "hip": (-30, 140),
    "knee": (0, 155),
    "ankle": (-65, 30),
    "roll": (-80, 80),
}
"""How far a human joint goes, from full extension (negative) to full flexion: a pose outside
these is not a body."""

SIDED_JOINTS: tuple[str, ...] = ("shoulder", "elbow", "hip", "knee", "ankle", "roll")
FRAME_NAME = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=40)
]
Degrees = Annotated[int, Field(ge=-360, le=360), NumberOnly]


class SidedAngle(Record):
    left: Degrees
    right: Degrees

    def of(self, side: Side) -> int:
        return self.left if side is Side.left else self.right


class Pose(Record):
    """One position of the body. A sided joint takes one angle for both sides or
    `{left: .., right: ..}`."""

    pelvis: Degrees
    lumbar: Degrees = 0
    thoracic: Degrees = 0
    neck: Degrees = 0
    roll: SidedAngle = SidedAngle(left=0, right=0)
    shoulder: SidedAngle = SidedAngle(left=0, right=0)
    elbow: SidedAngle = SidedAngle(left=0, right=0)
    hip: SidedAngle = SidedAngle(left=0, right=0)
    knee: SidedAngle = SidedAngle(left=0, right=0)
    ankle: SidedAngle = SidedAngle(left=0, right=0)

    @model_validator(mode="before")
    @classmethod
    def _one_angle_for_both_sides(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {
                name: {"left": value, "right": value}
                if name in SIDED_JOINTS
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                else value
                for name, value in data.items()
            }
        return data

    @model_validator(mode="after")
    def _within_human_range(self) -> "Pose":
        for joint, (low, high) in JOINT_RANGES.items():
            for label, angle in self.angles(joint):
                if not low <= angle <= high:
                    raise ValueError(
                        f"{label} at {angle} degrees is outside a body's range ({low} to {high})"
                    )
        return self

    def angles(self, joint: str) -> list[tuple[str, int]]:
        """Each angle of a joint, labelled (`hip (left)`)."""
        value = getattr(self, joint)
        if isinstance(value, SidedAngle):
            return [(f"{joint} ({side.value})", value.of(side)) for side in Side]
        return [(joint, value)]


class Reach(Record):
    """Where a hand holds on or rests, the arm's angles then solved to put it there: on a
    landmark of the body (`to`), or flat on the surface `floor_ahead` cm in front of the
    shoulder (on all fours, say)."""

    side: Side | None = None
    """One hand, or both (None)."""
    to: "Landmark | None" = None
    floor_ahead: Annotated[int, Field(ge=-60, le=80), NumberOnly] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "Reach":
        if (self.to is None) == (self.floor_ahead is None):
            raise ValueError("a reach goes either to a landmark or to the floor")
        return self


class Landmark(Record):
    """A point of the body: a side's knee, thigh (just behind the knee), shin, ankle or foot,
    or the lower ribs (either side)."""

    side: Side
    part: Annotated[str, StringConstraints(pattern=r"^(knee|thigh|shin|ankle|foot|ribs)$")]


Reach.model_rebuild()


class Frame(Record):
    """One key frame: the pose that a step of the exercise shows."""

    name: FRAME_NAME
    step: Annotated[int, Field(ge=1, le=100), NumberOnly]
    """The step it shows, counted from 1."""
    pose: Pose
    rests: dict[BodyPart, Support] = Field(min_length=1)
    """What rests on what: the figure is placed so these touch their supports."""
    side: Side | None = None
    """The side that is worked in this frame, drawn highlighted."""
    hangs: Side | None = None
    """A leg hanging down past the edge of a bed (with the `bed_edge` prop)."""
    reach: list[Reach] = Field(default_factory=list, max_length=2)
    press: JsonBool = False
    """A hold that shows no movement (tightening the stomach): drawn with an arrow pressing the
    belly in rather than one following a limb."""


class Figure(Record):
    """An exercise's key frames, in order, on one surface with its props."""

    surface: Surface
    props: list[Prop] = Field(default_factory=list)
    facing: Facing = Facing.right
    anchor: Annotated[str, StringConstraints(pattern=r"^(hip|knee|foot|hand)$")] = "hip"
    """The joint that keeps its place from frame to frame (the hands and knees stay put while
    the hips sit back, say)."""
    frames: list[Frame] = Field(min_length=2, max_length=6)

    @model_validator(mode="after")
    def _frames_are_in_step_order(self) -> "Figure":
        names = [frame.name for frame in self.frames]
        if len(set(names)) != len(names):
            raise ValueError("each frame needs its own name")
        steps = [frame.step for frame in self.frames]
        if steps != sorted(steps):
            raise ValueError("frames must follow the steps in order")
        for frame in self.frames:
            if frame.hangs is not None and Prop.bed_edge not in self.props:
                raise ValueError("a leg can hang only past a bed's edge (the bed_edge prop)")
        return self
