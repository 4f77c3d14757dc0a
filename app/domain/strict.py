"""Scalar types for request bodies, as strict as their JSON Schema says.

pydantic's lax mode turns `"20"` into 20 and `"yes"` into True, which the contract does not
allow; its strict mode refuses `56.0`, which JSON Schema counts as an integer. These sit in
between: an integer is a JSON number with no fraction, a boolean is `true` or `false`.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError


def _a_number(value: Any) -> Any:
    if isinstance(value, str | bytes | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


NumberOnly = BeforeValidator(_a_number)
"""Refuses strings and booleans before an int's own validation. Put it after the constraints
(`Annotated[int, Field(ge=1), NumberOnly] | None`) when the int is optional, or the constraints
are missing from the JSON Schema."""
JsonInt = Annotated[int, NumberOnly]
"""An integer: 20 or 20.0, never "20" or true."""
JsonBool = StrictBool
"""true or false, never "yes", "true" or 1."""
