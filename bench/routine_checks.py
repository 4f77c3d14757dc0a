"""Benchmark of the rule checker behind `POST /v1/routine-checks`, on the seeded catalogue.

The checker is a pure function (catalogue, profile, program), so it is timed in-process, without
HTTP: a 20-item program (20 different exercises of the seed catalogue, every one with a dose)
for a profile that trips many rules (flexion-sensitive, leg symptoms, no floor, acute), and the
program of a generated 90-minute routine for a profile that trips none. Each is checked
`--runs` times after a warm-up; the script prints p50 and p99 and PASS/FAIL against the target,
a 20-item program checked in under 5 ms at p50, and writes var/bench/routine_checks.json.
See bench/README.md.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from app.content.bundle import load_seed_directory  # noqa: E402
from app.domain.catalogue import Catalogue  # noqa: E402
from app.domain.routines import Phase, Profile, Sensitivity  # noqa: E402
from app.domain.routines.checker import check_program  # noqa: E402
from app.domain.routines.engine import generate_routine  # noqa: E402
from app.domain.routines.program import (  # noqa: E402
    Dose,
    Program,
    ProgramBlock,
    ProgramItem,
    program_of,
)
from app.domain.vocabulary import Category  # noqa: E402
from bench.catalogue import BENCH_DIR, write_json  # noqa: E402

TARGET_P50_MS = 5.0
PROGRAM_ITEMS = 20
WARM_UP_RUNS = 50


def seeded_catalogue() -> Catalogue:
    bundle = load_seed_directory(PROJECT_ROOT / "seed")
    return Catalogue([(exercise, 1) for exercise in bundle.exercises], bundle.sources, revision=1)


def twenty_items(catalogue: Catalogue) -> Program:
    items = [
        ProgramItem(
            exercise=entry.slug,
            dose=Dose(minutes=20)
            if entry.exercise.category is Category.aerobic
            else Dose(sets=2, repetitions=10, hold_seconds=10),
        )
        for entry in catalogue.entries[:PROGRAM_ITEMS]
    ]
    return Program(blocks=[ProgramBlock(name="main", items=items)])


def timed(catalogue: Catalogue, profile: Profile, program: Program, runs: int) -> list[float]:
    for _ in range(WARM_UP_RUNS):
        check_program(catalogue, profile, program)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        check_program(catalogue, profile, program)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    arguments = parser.parse_args()
    catalogue = seeded_catalogue()
    tripping = Profile(
        sensitivity=Sensitivity.flexion_sensitive,
        leg_symptoms=True,
        can_get_on_floor=False,
        minutes=30,
        phase=Phase.acute,
    )
    clean = Profile(
        sensitivity=Sensitivity.none, minutes=90, phase=Phase.maintenance, include_aerobic=True
    )
    generated = program_of(generate_routine(catalogue, clean, 0).model_dump(mode="json")["blocks"])
    results: dict[str, dict[str, float]] = {
        "twenty_items": {
            "items": PROGRAM_ITEMS,
            "findings": len(check_program(catalogue, tripping, twenty_items(catalogue)).findings),
            **summary(timed(catalogue, tripping, twenty_items(catalogue), arguments.runs)),
        },
        "generated_90_minutes": {
            "items": generated.item_count,
            "findings": len(check_program(catalogue, clean, generated).findings),
            **summary(timed(catalogue, clean, generated, arguments.runs)),
        },
    }
    passed = results["twenty_items"]["p50_ms"] < TARGET_P50_MS
    for name, figures in results.items():
        print(
            f"{name:<22} items {figures['items']:>3}  findings {figures['findings']:>3}  "
            f"p50 {figures['p50_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms"
        )
    print(f"20-item program p50 < {TARGET_P50_MS} ms: {'PASS' if passed else 'FAIL'}")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    write_json("routine_checks.json", {**results, "passed": passed})
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
