"""Every module of the app imports on its own, first, in a fresh interpreter: no import cycle waits
for the next contributor (importing a `routines` module from `catalogue.py` once was one)."""

import subprocess
import sys
import textwrap

IMPORT_EACH_ALONE = textwrap.dedent(
    """
    import importlib, pkgutil, sys, warnings
    from sqlmodel import SQLModel
    import app

    warnings.simplefilter("ignore")  # SQLAlchemy's notes on redeclared tables: expected here

    modules = pkgutil.walk_packages(app.__path__, "app.")
    names = sorted(m.name for m in modules if m.name != "app.__main__")  # that one runs the CLI
    failures = []
    for name in names:
        for loaded in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
            del sys.modules[loaded]
        SQLModel.metadata.clear()  # the tables are declared again with their module
        try:
            importlib.import_module(name)
        except Exception as error:
            failures.append(f"{name}: {type(error).__name__}: {error}")
    print("\\n".join(failures))
    """
)


def test_every_app_module_imports_first_on_its_own() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stderr
