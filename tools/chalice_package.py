"""`chalice package` for the Lambda runtime this project targets, whatever Python runs it.

Chalice takes the function runtime from the interpreter that packages (its Config.lambda_python_version says "we
may open this up to configuration later"), and asks pip for the runtime's binary wheels by ABI and platform but
not by Python version. Two small patches make a dev machine on Python 3.11 build a correct python3.13 package:
the runtime, and `--python-version` on those wheel downloads. tests/integration/test_infra.py checks that the zip
holds the compiled modules for the target, so a chalice upgrade that breaks this fails the suite.
Usage: python -m tools.chalice_package package --stage prod --merge-template merge.json dist/prod
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from chalice.cli import main
from chalice.config import Config
from chalice.deploy.packager import PipRunner

LAMBDA_RUNTIME = "python3.13"
_PIP_PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")

Config.lambda_python_version = property(lambda self: LAMBDA_RUNTIME)  # type: ignore[assignment]
warnings.filterwarnings("ignore", message="You are currently running")  # chalice's version check, answered above
_execute = PipRunner._execute


def _execute_for_runtime(self: PipRunner, command: str, args: list[str], *rest: Any, **kw: Any) -> Any:
    if command == "download" and "--abi" in args:  # a binary wheel for Lambda: for its Python, not ours
        args = [*args[:-1], "--python-version", _PIP_PYTHON_VERSION, args[-1]]
    return _execute(self, command, args, *rest, **kw)


PipRunner._execute = _execute_for_runtime  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
