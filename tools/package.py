"""`make package STAGE=prod`: one deployable template (Lambda + API from Chalice, tables/queues/alarm from
infra/template.json, settings as stack parameters) plus the deployment zip, in dist/<stage>/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from tools.chalice_package import LAMBDA_RUNTIME

ROOT = Path(__file__).resolve().parent.parent
# Stack parameters -> the environment variables every function gets. Secrets are NoEcho.
SETTINGS = {
    "JwtIssuer": ("LIFESHOP_JWT_ISSUER", False, "Cognito user pool issuer URL"),
    "JwtAudience": ("LIFESHOP_JWT_AUDIENCE", False, "Cognito app client id"),
    "JwksUrl": ("LIFESHOP_JWKS_URL", False, "the user pool's JWKS URL"),
    "ConsoleSigninUrl": (
        "LIFESHOP_CONSOLE_SIGNIN_URL",
        False,
        "the console's sign-in: the Cognito hosted UI's "
        "authorize URL (response_type=token, redirect_uri <api>/console)",
    ),
    "CursorSecret": ("LIFESHOP_CURSOR_SECRET", True, "signs pagination cursors (32+ random characters)"),
    "StripeApiKey": ("STRIPE_API_KEY", True, "Stripe secret key"),
    "StripeWebhookSecret": ("STRIPE_WEBHOOK_SECRET", True, "Stripe webhook signing secret"),
}


def _gateway_error(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}})
    return {"StatusCode": status, "ResponseTemplates": {"application/json": body}}


# API Gateway answers some requests itself (unknown paths, throttling, its own failures): in the contract's shape.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": _gateway_error(404, "not_found", "no such path"),
    "THROTTLED": _gateway_error(429, "too_many_requests", "slow down and retry"),
    "DEFAULT_4XX": _gateway_error(400, "invalid_request", "the request was refused by the gateway"),
    "DEFAULT_5XX": _gateway_error(502, "unavailable", "the service is unavailable; retry shortly"),
}


OUTBOX_CONSUMER = "publish_outbox"  # app.py's stream consumers, and the records each is given
STREAM_CONSUMERS: dict[str, tuple[dict[str, Any], int]] = {
    OUTBOX_CONSUMER: (
        {
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "OUTBOX#"}, {"prefix": "NOTICE#"}]}}},
        },
        1,
    ),
    "count_ledger": ({"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "LEDGER#"}]}}}}, 4),
    "index_catalog": (
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "PRODUCT#"}]}, "sk": {"S": ["META", {"prefix": "RATING#"}]}}}},
        1,
    ),
    "count_sales": (
        {
            "dynamodb": {
                "Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}, "sk": {"S": ["META"]}},
                "NewImage": {"status": {"S": ["paid", "partially_shipped", "shipped", "refunded", "cancelled"]}},
            }
        },
        4,
    ),
    "keep_statements": (
        {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "MPAY#"}, {"prefix": "TIP#"}]}}}},
        4,
    ),
}


def function_names() -> list[str]:
    from app import app

    return ["APIHandler"] + [to_cfn_resource_name(source.name) for source in app.event_sources]


# API Gateway's stage throttling: beyond it, 429 in the contract's shape before any Lambda runs.
THROTTLE = {
    "ApiRateLimit": (500, "steady requests per second the API accepts"),
    "ApiBurstLimit": (1000, "requests the API accepts in a burst"),
}


def merge_template(stage: str) -> dict[str, Any]:
    if stage == "local":
        raise SystemExit(
            "stage 'local' is for this machine only (its secrets are in the README): "
            "package a real stage, e.g. make package STAGE=prod"
        )
    template = json.loads((ROOT / "infra" / "template.json").read_text())
    template["Parameters"]["Stage"]["Default"] = stage
    template["Parameters"]["Stage"]["AllowedPattern"] = "^(?!local$)[a-z][a-z0-9-]{0,15}$"
    template["Parameters"]["Stage"]["ConstraintDescription"] = "any stage but local"
    for name, (default, description) in THROTTLE.items():
        template["Parameters"][name] = {"Type": "Number", "Default": default, "MinValue": 1, "Description": description}
    template["Parameters"]["SnapStart"] = {
        "Type": "String",
        "Default": "PublishedVersions",
        "AllowedValues": ["PublishedVersions", "None"],
        "Description": "Lambda SnapStart for the API function (None in a region without SnapStart for Python)",
    }
    for name, (_, secret, description) in SETTINGS.items():
        template["Parameters"][name] = {"Type": "String", "NoEcho": secret, "Description": description, "MinLength": 1}
    variables = {env: {"Ref": name} for name, (env, _, _) in SETTINGS.items()}
    variables["LIFESHOP_STAGE"] = {"Ref": "Stage"}
    for function in function_names():
        template["Resources"][function] = {"Properties": {"Environment": {"Variables": variables}}}
    # Four consumers read the store table's stream, each given only its records by a filter: the outbox consumer
    # (new OUTBOX# items, in order), the ledger consumer (new LEDGER# entries, for the points report, several
    # batches of a shard at once: counting needs no order), the search index (products; a product's records stay
    # in order) and the sales count (orders that have sold, for `popular`). All report partial batch failures and
    # after their retries (or at once, for a malformed item) leave a record on the outbox-failures queue for repair.
    for consumer, (pattern, parallel) in STREAM_CONSUMERS.items():
        template["Resources"][to_cfn_resource_name(consumer)]["Properties"]["Events"] = {
            to_cfn_resource_name(f"{consumer}-dynamodb-event-source"): {
                "Type": "DynamoDB",
                "Properties": {
                    "Stream": {"Fn::GetAtt": ["StoreTable", "StreamArn"]},
                    "StartingPosition": "TRIM_HORIZON",
                    "BatchSize": 100,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "FilterCriteria": {"Filters": [{"Pattern": json.dumps(pattern)}]},
                    "ParallelizationFactor": parallel,
                    "BisectBatchOnFunctionError": True,
                    "MaximumRetryAttempts": 20,
                    "MaximumRecordAgeInSeconds": 86400,
                    "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["OutboxFailureQueue", "Arn"]}}},
                },
            }
        }
    template["Resources"]["RestAPI"] = {
        "Properties": {
            "GatewayResponses": GATEWAY_RESPONSES,
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
                    "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
                }
            ],
        }
    }
    return template


def package(stage: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    merge = out.parent / f"merge-{stage}.json"
    merge.write_text(json.dumps(merge_template(stage), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.chalice_package",
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge),
            str(out),
        ],
        cwd=str(ROOT),
        env=env,
        check=True,
    )
    template = out / "sam.json"
    template.write_text(json.dumps(snap_start(json.loads(template.read_text())), indent=2))
    compile_for_runtime(out / "deployment.zip")
    return template


def runtime_python(version: str) -> str:
    """An interpreter of Lambda's Python version: on the PATH, or installed by pyenv but not selected."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = [
        shutil.which(f"python{version}"),
        *map(str, sorted(pyenv.glob(f"versions/{version}*/bin/python{version}"))),
    ]
    for python in filter(None, found):
        probe = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.stdout.strip() == version:
            return python
    raise SystemExit(
        f"make package compiles the function for Lambda's python{version}: install Python {version} "
        f"(apt-get install python{version}, or pyenv install {version})"
    )


def compile_for_runtime(deployment: Path) -> None:
    """Ship the bytecode of every module, compiled by Lambda's Python. /var/task is read-only, so a package of
    sources makes each cold start compile boto3, botocore, pydantic, stripe and the app again, and keep it only in
    memory. The .pyc files are unchecked-hash (PEP 552): a deployed package never changes, so Python loads them
    without looking at the sources. Bytecode of any other Python (a work tree's __pycache__) is left out."""
    version = LAMBDA_RUNTIME.removeprefix("python")
    python = runtime_python(version)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "task"
        with zipfile.ZipFile(deployment) as zipped:
            entries = [(info, zipped.read(info)) for info in zipped.infolist() if "__pycache__/" not in info.filename]
        for info, data in entries:
            if not info.is_dir():
                (tree / info.filename).parent.mkdir(parents=True, exist_ok=True)
                (tree / info.filename).write_bytes(data)
        # Tracebacks name the files where Lambda unpacks them. A module that does not compile for this Python
        # (a vendored test of some dependency) is left as source, as before.
        subprocess.run(
            [
                python,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "--invalidation-mode",
                "unchecked-hash",
                "-s",
                str(tree),
                "-p",
                "/var/task",
                str(tree),
            ],
            capture_output=True,
        )
        with zipfile.ZipFile(deployment, "w", zipfile.ZIP_DEFLATED) as zipped:
            for info, data in entries:
                zipped.writestr(info, data)
            for pyc in sorted(tree.rglob(f"__pycache__/*.cpython-{version.replace('.', '')}.pyc")):
                info = zipfile.ZipInfo(str(pyc.relative_to(tree)), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zipped.writestr(info, pyc.read_bytes(), zipfile.ZIP_DEFLATED)


LIVE_ALIAS = "APIHandlerAliaslive"  # the AWS::Lambda::Alias SAM creates for AutoPublishAlias "live" (Ref: its ARN)


def snap_start(template: dict[str, Any]) -> dict[str, Any]:
    """The API function runs from a published version with Lambda SnapStart (parameter SnapStart; None where the
    region does not offer it): API Gateway invokes the `live` alias, which SAM moves to each new version."""
    api = template["Resources"]["APIHandler"]["Properties"]
    api["AutoPublishAlias"] = "live"
    api["SnapStart"] = {"ApplyOn": {"Ref": "SnapStart"}}
    template["Resources"]["APIHandlerInvokePermission"]["Properties"]["FunctionName"] = {"Ref": LIVE_ALIAS}
    body = json.dumps(template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])
    target = "${APIHandler.Arn}"
    if target not in body:
        raise SystemExit("chalice's API template changed: the API no longer names ${APIHandler.Arn}")
    template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"] = json.loads(
        body.replace(target, "${%s}" % LIVE_ALIAS)
    )
    return template


def main() -> int:
    stage = os.environ.get("STAGE", "prod")
    template = package(stage, ROOT / "dist" / stage)
    print(f"\nwrote {template.relative_to(ROOT)} and {template.with_name('deployment.zip').relative_to(ROOT)}")
    print(
        "deploy (docs/operations.md: Deploying):\n"
        f"  aws cloudformation package --template-file dist/{stage}/sam.json --s3-bucket <bucket> "
        f"--output-template-file dist/{stage}/packaged.json\n"
        f"  aws cloudformation deploy --template-file dist/{stage}/packaged.json --stack-name lifeshop-{stage} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides "
        + " ".join(f"{n}=..." for n in SETTINGS)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
