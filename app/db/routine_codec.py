"""How a routine is stored: the JSON bytes the API returned, zstd-compressed against a dictionary
made of the catalogue it was generated from.

A routine repeats its exercises' texts (steps, dosages, cautions) word for word, so stored as
plain JSON it took 22.5 KB a row on SQLite and 8 KB on PostgreSQL. Compressed against the
published exercises of its catalogue (a raw-content zstd dictionary, written once per catalogue
state to `routine_dictionary` and never changed), it takes about 2 KB, and decompresses to the
very bytes creation returned.
"""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import zstandard

from app.domain.catalogue import Catalogue

COMPRESSION_LEVEL = 3
DICTIONARY_MAX_BYTES = 512 * 1024
"""A catalogue larger than this contributes its first exercises only (slug order)."""
KEPT_DICTIONARIES = 16


def catalogue_dictionary(catalogue: Catalogue) -> bytes:
    """The published exercises as the API serialises them, which is what routines embed."""
    parts: list[bytes] = []
    size = 0
    for entry in catalogue.entries:
        document = entry.detail_json
        if size + len(document) > DICTIONARY_MAX_BYTES:
            break
        parts.append(document)
        size += len(document)
    return b"".join(parts)


@dataclass(eq=False)
class RoutineDictionary:
    """One dictionary, ready to compress and decompress with; `stored` once it is known to be
    in the database."""

    id: str
    content: bytes
    stored: bool = False
    data: zstandard.ZstdCompressionDict = field(init=False, repr=False)
    decompressor: zstandard.ZstdDecompressor = field(init=False, repr=False)
    _compressors: list[zstandard.ZstdCompressor] = field(
        init=False, repr=False, default_factory=list
    )

    def __post_init__(self) -> None:
        self.data = zstandard.ZstdCompressionDict(
            self.content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
        self.data.precompute_compress(level=COMPRESSION_LEVEL)
        self.decompressor = zstandard.ZstdDecompressor(dict_data=self.data)

    def compress(self, document_json: bytes) -> bytes:
        """Safe from any thread, so routines are compressed in the worker thread that stores
        them, never on the event loop (zstd releases the GIL meanwhile). A zstd context serves
        one call at a time: each call takes one from the pool, or makes one (list pop and
        append are atomic), and gives it back."""
        try:
            compressor = self._compressors.pop()
        except IndexError:
            compressor = zstandard.ZstdCompressor(
                level=COMPRESSION_LEVEL, dict_data=self.data, write_checksum=True
            )
        try:
            return compressor.compress(document_json)
        finally:
            self._compressors.append(compressor)

    @classmethod
    def of(cls, content: bytes) -> "RoutineDictionary":
        return cls(hashlib.sha256(content).hexdigest(), content)


class RoutineCodec:
    """The dictionaries of one process, and decompression. zstd decompressors are not
    thread-safe, so decompression happens on the event loop; compression is the dictionary's,
    from any thread."""

    def __init__(self) -> None:
        self._current: tuple[int, RoutineDictionary] | None = None
        self._dictionaries: OrderedDict[str, RoutineDictionary] = OrderedDict()
        self._plain_decompressor = zstandard.ZstdDecompressor()
        """For rows compressed without a dictionary (those migrated from plain JSON)."""

    def dictionary_for(self, catalogue: Catalogue) -> RoutineDictionary:
        """The dictionary of this catalogue, built once per catalogue revision."""
        if self._current is not None and self._current[0] == catalogue.revision:
            return self._current[1]
        content = catalogue_dictionary(catalogue)
        dictionary = self.known(hashlib.sha256(content).hexdigest()) or self.remember(
            RoutineDictionary.of(content)
        )
        self._current = (catalogue.revision, dictionary)
        return dictionary

    def known(self, dictionary_id: str) -> RoutineDictionary | None:
        dictionary = self._dictionaries.get(dictionary_id)
        if dictionary is not None:
            self._dictionaries.move_to_end(dictionary_id)
        return dictionary

    def remember(self, dictionary: RoutineDictionary) -> RoutineDictionary:
        self._dictionaries[dictionary.id] = dictionary
        if len(self._dictionaries) > KEPT_DICTIONARIES:
            self._dictionaries.popitem(last=False)
        return dictionary

    def decompress(self, compressed: bytes, dictionary: RoutineDictionary | None) -> bytes:
        decompressor = self._plain_decompressor if dictionary is None else dictionary.decompressor
        return decompressor.decompress(compressed)
