"""How a model the API writes whole is described in the contract."""

from pydantic import ConfigDict

ALWAYS_PRESENT = ConfigDict(json_schema_serialization_defaults_required=True)
"""For a model the API writes with every field, defaults included: its fields with a default are
`required` in the contract too (a nullable one is required and nullable), so a generated client
need not test each for absence. Only on models never read from a request: on one that is, pydantic
would split its schema in two (`-Input`, `-Output`), renaming it in the contract."""
