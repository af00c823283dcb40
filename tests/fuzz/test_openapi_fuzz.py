"""Schemathesis fuzzes every operation of /openapi.json on a live `chalice local`: no 5xx, no response
outside the documented statuses, content types and schemas. FUZZ_MAX_EXAMPLES / FUZZ_SEED tune a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.adapters.tokens import mint_local_token

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(live_server, tmp_path):
    secret = live_server["container"].settings.local_jwt_secret
    # One token with every group reaches every operation; 401/403 paths have their own tests.
    token = mint_local_token(secret, "fuzzer", ["merchandiser", "partner", "service"], 3600, int(time.time()))
    cli = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [
            str(cli),
            "run",
            f"{live_server['url']}/openapi.json",
            "--url",
            live_server["url"],
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            os.environ.get("FUZZ_MAX_EXAMPLES", "8"),
            "--seed",
            os.environ.get("FUZZ_SEED", "20261123"),
            "--workers",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "passed" in run.stdout and "Tested: " in run.stdout, report
