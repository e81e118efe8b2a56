"""What every config section is built from: the strict base model and the shared field types."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description="Letters, digits, _ . -")]
MAX_IMAGE_SIDE = 16384  # pixels, for frame sizes and the points drawn on frames
ImageSide = Annotated[int, Field(gt=0, le=MAX_IMAGE_SIDE)]
Pixel = Annotated[int, Field(ge=0, le=MAX_IMAGE_SIDE)]
Point = Annotated[tuple[Pixel, Pixel], Field(description="x, y in pixels of the camera image")]
# Text that must say something; the loader words its error "expected a non-empty text".
NonEmptyText = Annotated[str, Field(min_length=1)]
# An area of a box or of motion in the camera image, in square pixels.
SquarePixels = Annotated[int, Field(ge=0)]
# A model's score, or a threshold on it: 0 to 1.
Score = Annotated[float, Field(ge=0, le=1)]
# A TCP port to listen on; 0 turns the endpoint off.
Port = Annotated[int, Field(ge=0, le=65535)]

# Durations, in the unit the field's name says: a margin may be 0 (none), a period may not.
Margin = Annotated[float, Field(ge=0)]
Period = Annotated[float, Field(gt=0)]

# Schedules are written HH:MM; JSON Schema's "time" format would demand seconds and an
# offset, so editors get the pattern the loader actually accepts.
LocalTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
]

# A config error between sections: the location in the YAML (keys and list indexes) and why.
SectionError = tuple[tuple[str | int, ...], str]


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
