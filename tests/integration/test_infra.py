"""The deployable infrastructure: lints clean, deploys in CloudFormation (moto) as the settings name it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.api.console import CONSOLE_DIR
from chalicelib.settings import Settings
from infra.provision import TEMPLATE
from tools import package

ROOT = Path(__file__).resolve().parent.parent.parent
PROD = Settings(
    stage="prod",
    jwt_issuer="https://iss",
    jwt_audience="app",
    jwks_url="https://iss/jwks",
    cursor_secret="c" * 32,
    stripe_api_key="sk_live_x",
    stripe_webhook_secret="whsec_x",
)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prod template and its deployment zip, packaged once for the tests that read them (about 25 s)."""
    return package.package("prod", tmp_path_factory.mktemp("prod"))


def test_the_packaged_template_passes_cfn_lint(packaged):
    template = packaged
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(template)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    resources = json.loads(template.read_text())["Resources"]
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    assert sorted(functions) == sorted(package.function_names())
    for name in functions:  # every function gets the settings a non-local stage refuses to start without
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert {"LIFESHOP_JWKS_URL", "LIFESHOP_CURSOR_SECRET", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"} <= set(
            variables
        )
    assert not any(
        r["Type"] == "AWS::Serverless::Function" and "SQS" in json.dumps(r.get("Properties", {}).get("Events"))
        for r in resources.values()
    )  # no SQS-triggered function, so no batch-failure reporting to set
    api = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::Api")
    throttle = api["Properties"]["MethodSettings"][0]
    assert (throttle["ThrottlingRateLimit"], throttle["ThrottlingBurstLimit"]) == (
        {"Ref": "ApiRateLimit"},
        {"Ref": "ApiBurstLimit"},
    )
    for consumer, prefix in (("PublishOutbox", "OUTBOX#"), ("CountLedger", "LEDGER#")):
        [stream] = resources[consumer]["Properties"]["Events"].values()
        assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["StoreTable", "StreamArn"]}
        assert stream["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["OutboxFailureQueue", "Arn"]
        }
        assert prefix in stream["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"]
    assert resources["StoreTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    stage = json.loads(template.read_text())["Parameters"]["Stage"]["AllowedPattern"]
    assert re.match(stage, "prod") and re.match(stage, "staging") and not re.match(stage, "local")
    sizes = {
        name: (
            resources[name]["Properties"]["Runtime"],
            resources[name]["Properties"]["Architectures"],
            resources[name]["Properties"]["MemorySize"],
        )
        for name in functions
    }
    assert sizes == {name: ("python3.13", ["arm64"], 1024 if name == "APIHandler" else 256) for name in functions}
    api_function = resources["APIHandler"]["Properties"]
    assert api_function["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}} and api_function["AutoPublishAlias"] == "live"
    assert "${APIHandler.Arn}" not in json.dumps(api), "API Gateway calls the published alias, never $LATEST"
    assert resources["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": package.LIVE_ALIAS}


def test_the_deployment_zip_holds_the_compiled_modules_of_the_target_runtime(packaged):
    """Chalice drops a dependency it finds no wheel for with a warning; a function without pydantic-core would
    fail on its first request. Every compiled module must be for Lambda's Python on arm64, and every module ships
    its bytecode for that Python (unchecked-hash: /var/task is read-only, so sources would compile on every cold
    start)."""
    with zipfile.ZipFile(packaged.with_name("deployment.zip")) as zipped:
        names = zipped.namelist()
        header = zipped.read("chalicelib/__pycache__/bootstrap.cpython-313.pyc")[:8]
    compiled = [n for n in names if n.endswith(".so")]
    assert any(n.startswith("pydantic_core/_pydantic_core.cpython-313-aarch64") for n in compiled), compiled
    assert all("cpython-313-aarch64" in n or n.endswith(".abi3.so") for n in compiled), compiled
    assert not any(n.startswith(("pydantic_settings/", "dotenv/", "jwt/", "cryptography/")) for n in names)
    sources = {n.removesuffix(".py") for n in names if n.endswith(".py")}
    bytecode = {n.replace("__pycache__/", "").removesuffix(".cpython-313.pyc") for n in names if n.endswith(".pyc")}
    assert sources == bytecode, sorted(sources ^ bytecode)[:10]
    assert "app" in sources and "botocore/client" in sources
    console = {f"chalicelib/console/{path.name}" for path in CONSOLE_DIR.iterdir()}  # what /console serves ships
    assert console <= set(names), sorted(console - set(names))
    assert header[:4] == bytes.fromhex("f30d0d0a")  # CPython 3.13's magic number
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source not checked (PEP 552)


def test_stage_local_cannot_be_packaged(tmp_path):
    with pytest.raises(SystemExit, match="stage 'local' is for this machine only"):
        package.package("local", tmp_path / "local")
    assert not (tmp_path / "local" / "sam.json").exists()


@mock_aws
def test_the_resource_template_deploys_and_names_what_the_app_uses():
    cfn = boto3.client("cloudformation", region_name="cn-north-1")
    cfn.create_stack(
        StackName="lifeshop-prod",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "prod"}],
    )
    ddb = boto3.client("dynamodb", region_name="cn-north-1")
    table = ddb.describe_table(TableName=PROD.store_table)["Table"]
    assert {k["AttributeName"] for k in table["KeySchema"]} == {"pk", "sk"}
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["gsi1", "gsi2", "gsi3", "gsi4"]
    sqs = boto3.client("sqs", region_name="cn-north-1")
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    for partner in PROD.partners:  # every partner the routes name has its queue, dead-letter queue and alarm
        queue = sqs.get_queue_url(QueueName=PROD.partner_queue(partner))["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attrs["RedrivePolicy"])
        assert attrs["FifoQueue"] == "true" and redrive["maxReceiveCount"] in (5, "5")
        assert redrive["deadLetterTargetArn"].endswith(f"lifeshop-prod-partner-{partner}-dlq.fifo")
        # moto's CloudFormation does not create alarms; check the alarm's definition instead.
        name = "Partner" + partner.title()
        alarm = resources[f"{name}DeadLetterAlarm"]["Properties"]
        assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [f"{name}DeadLetterQueue", "QueueName"]}
        assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "ApproximateNumberOfMessagesVisible",
            0,
            "GreaterThanThreshold",
        )
        consumer = resources[f"{name}ConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert [s["Resource"] for s in consumer] == [
            [{"Fn::GetAtt": [f"{name}Queue", "Arn"]}, {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]}]
        ]
        assert "sqs:SendMessage" not in consumer[0]["Action"], "a partner reads its own queue and nothing else"


def test_the_lambda_role_may_touch_only_the_stage_table_and_queue():
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not any(a.endswith("*") for a in actions)
    assert not actions & {"dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable", "sqs:DeleteQueue"}
    text = json.dumps(policy)
    assert f"table/{PROD.store_table}" in text and "lifeshop-prod-partner-*.fifo" in text
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == ["sqs:SendMessage"] and "lifeshop-prod-partner-*-dlq.fifo" in json.dumps(deny["Resource"])
