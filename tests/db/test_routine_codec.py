"""Routines are compressed in the worker threads that store them, several at once: each one
still decompresses to its very bytes."""

from concurrent.futures import ThreadPoolExecutor

import orjson

from app.db.routine_codec import RoutineDictionary


def test_compressing_from_many_threads_at_once_keeps_every_routine_exact() -> None:
    dictionary = RoutineDictionary.of(b'{"steps": ["Lie on your back", "Bend both knees"]}' * 50)
    documents = [
        orjson.dumps({"id": str(number), "steps": ["Lie on your back"] * (number % 17 + 1)})
        for number in range(400)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        compressed = list(pool.map(dictionary.compress, documents))
    assert [dictionary.decompressor.decompress(data) for data in compressed] == documents
