"""Sources and exercises as one document: the shape seed/, import and export share."""

from pydantic import BaseModel, ConfigDict

from app.domain.exercise import Exercise, Source


class ContentBundle(BaseModel):
    """The seed format as one document: what export writes and import reads."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "sources": [
                        {
                            "id": "back-pain-relief-stretches",
                            "title": "Best Back Pain Relief Stretches and Exercises",
                            "publisher_kind": "clinic_blog",
                            "seed_file": "004_0d052247460285cc.txt",
                        }
                    ],
                    "exercises": [],
                }
            ]
        },
    )

    sources: list[Source]
    exercises: list[Exercise]
