"""What a catalogue snapshot keeps of an exercise: its stored JSON, packed, and the few facts that
filters, search and the routine engine read, taken from the JSON without building the model.

A whole `Exercise` model costs about 8.6 KB of memory; a snapshot of 100,000 of them would not
fit a worker. The facts are small: enum members, and frozensets and tuples shared between every
exercise that has the same ones (`shared`). The model is made again from the packed JSON only
for what a request returns (`CatalogueEntry.exercise`, a bounded cache).

Documents come from paths that validated them (the content editor, the importer, the seeder),
so loading does not validate them field by field again; it reads the facts, which fails on a
document of another shape (an unknown field, a value this code does not know), and only such a
document is validated, to say what is wrong with it.
"""

import threading
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, NamedTuple, TypeVar

import zstandard

from app.domain.exercise import Exercise

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


def members(vocabulary: type[E]) -> dict[Any, E]:
    """Each term of a vocabulary by its stored value: reading one is a dictionary lookup, and a
    value this code does not know is a KeyError (an enum call costs several times more)."""
    return {member.value: member for member in vocabulary}


_shared: dict[Any, Any] = {}


def shared(value: T) -> T:
    """One object for every equal value (frozensets of areas, equipment, flags, doses): the
    catalogue holds few distinct ones, whatever its size."""
    return _shared.setdefault(value, value)  # type: ignore[no-any-return]


class Dose(NamedTuple):
    """The cited dosage a routine prescribes from (`choose_dosage`): the numbers only."""

    sets: int | None
    reps: int | None
    hold_seconds: int | None
    hold_seconds_max: int | None
    per_side: bool
    duration_minutes: int | None


KNOWN_FIELDS = frozenset(Exercise.model_fields)


class UnknownShapeError(ValueError):
    """A stored document whose facts this code cannot read (a newer shape, most likely)."""


def search_text_of(name: str, aliases: list[str], summary: str) -> str:
    """What `q` looks in: the name, aliases and summary, casefolded."""
    return " ".join([name, *aliases, summary]).casefold()


def chosen_dose(dosages: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The most complete cited dosage: one that states repetitions (or a duration), else the
    first listed (the rule `prescription.choose_dosage` applies to the model)."""
    for dosage in dosages:
        if dosage.get("reps") is not None or dosage.get("duration_minutes") is not None:
            return dosage
    return dosages[0]


def dose_of(dosage: Mapping[str, Any]) -> Dose:
    return shared(
        Dose(
            dosage.get("sets"),
            dosage.get("reps"),
            dosage.get("hold_seconds"),
            dosage.get("hold_seconds_max"),
            bool(dosage.get("per_side", False)),
            dosage.get("duration_minutes"),
        )
    )


def cited_sources_of(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The sources an exercise cites, in order (as `Exercise.cited_sources`)."""
    cited = [item["source"] for item in document["citations"]]
    cited += [item["source"] for item in document["dosages"]]
    return shared(tuple(dict.fromkeys(cited)))


COMPRESSION_LEVEL = 3
DICTIONARY_BYTES = 32 * 1024
TRAINING_SAMPLES = 256
"""A dictionary is trained only from at least this many documents (fewer teach it little)."""


class DocumentCodec:
    """Packs a stored document: zstd, against a dictionary trained once per process from the
    first documents loaded (an exercise's JSON repeats its neighbours' keys and phrases, so one
    packs to a fifth of its size). Safe from any thread: each thread has its own (de)compressor."""

    def __init__(self, dictionary: bytes | None = None) -> None:
        self._data = None if dictionary is None else zstandard.ZstdCompressionDict(dictionary)
        self._local = threading.local()

    @classmethod
    def trained(cls, samples: Sequence[bytes]) -> "DocumentCodec":
        """A codec with a dictionary trained from `samples`, or a plain one when they are too
        few or too alike to train one."""
        if len(samples) < TRAINING_SAMPLES:
            return PLAIN
        try:
            taught: list[bytes | bytearray | memoryview[int]] = list(samples)
            dictionary = zstandard.train_dictionary(DICTIONARY_BYTES, taught)
        except zstandard.ZstdError:
            return PLAIN
        return cls(dictionary.as_bytes())

    def _tools(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        tools: tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor] | None = getattr(
            self._local, "tools", None
        )
        if tools is None:
            if self._data is None:
                tools = (
                    zstandard.ZstdCompressor(level=COMPRESSION_LEVEL),
                    zstandard.ZstdDecompressor(),
                )
            else:
                tools = (
                    zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, dict_data=self._data),
                    zstandard.ZstdDecompressor(dict_data=self._data),
                )
            self._local.tools = tools
        return tools

    def pack(self, document: bytes) -> bytes:
        packed = self._tools()[0].compress(document)
        return bytes(memoryview(packed))  # the compressor's buffer is sized for the worst case

    def unpack(self, packed: bytes) -> bytes:
        return self._tools()[1].decompress(packed)


PLAIN = DocumentCodec()
