"""deploy/aws/stack.yaml: cfn-lint passes, IAM is scoped, and the stack agrees with the code
(queue name, handler names, worker command, model path)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from dsac_asr.cli import app as cli_app
from dsac_asr.jobs.queue import CALLBACK_QUEUE_NAME, QUEUE_NAME

STACK = Path(__file__).parents[2] / "deploy" / "aws" / "stack.yaml"
# Actions AWS does not scope to resources: the only ones allowed on Resource "*".
UNSCOPED_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "sqs:ListQueues",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import decode

    loaded, problems = decode(str(STACK))
    assert not problems, problems
    assert loaded is not None
    return dict(loaded)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Properties of each resource of type ``kind``, by logical id."""
    found = template["Resources"].items()
    return {name: r.get("Properties", {}) for name, r in found if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allow_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Allow statement of the roles' inline policies, with its role."""
    for role, props in resources(template, "AWS::IAM::Role").items():
        assert not props.get("ManagedPolicyArns"), f"{role}: use scoped inline policies"
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    yield role, statement


def cli_commands() -> set[str]:
    """The ``dsac-asr`` sub-commands."""
    commands: dict[str, Any] = typer.main.get_command(cli_app).commands  # type: ignore[attr-defined]
    return set(commands)


def test_cfn_lint_passes() -> None:
    run = [sys.executable, "-c", "from cfnlint.runner import main; main()", str(STACK)]
    result = subprocess.run(run, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_wildcard_actions_in_allow_statements(template: dict[str, Any]) -> None:
    statements = list(allow_statements(template))
    assert len(statements) > 10
    for role, statement in statements:
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{role}: {action}"
            assert "*" not in action, f"{role}: {action}"


def test_resource_star_only_for_actions_aws_does_not_scope(template: dict[str, Any]) -> None:
    for role, statement in allow_statements(template):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS, role


def test_the_bucket_is_encrypted_private_and_expires_objects(template: dict[str, Any]) -> None:
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    expiring = [
        r
        for r in bucket["LifecycleConfiguration"]["Rules"]
        if r["Status"] == "Enabled" and "ExpirationInDays" in r
    ]
    assert {r["Prefix"] for r in expiring} >= {"uploads/", "decoded/"}
    assert "VersioningConfiguration" not in bucket  # deleted private audio stays deleted


def test_the_queues_are_the_ones_celery_uses_with_a_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    assert queues["JobQueue"]["QueueName"] == QUEUE_NAME
    assert queues["CallbackQueue"]["QueueName"] == CALLBACK_QUEUE_NAME
    for name in ("JobQueue", "CallbackQueue"):
        redrive = queues[name]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    alarm = resources(template, "AWS::CloudWatch::Alarm")["DeadLetterAlarm"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    assert alarm["AlarmActions"]


def test_workers_may_use_both_queues(template: dict[str, Any]) -> None:
    worker = [s for role, s in allow_statements(template) if role == "WorkerTaskRole"]
    receive = [s for s in worker if "sqs:ReceiveMessage" in as_list(s["Action"])]
    assert [r["Resource"] for r in receive] == [
        [{"Fn::GetAtt": ["JobQueue", "Arn"]}, {"Fn::GetAtt": ["CallbackQueue", "Arn"]}]
    ]


def test_workers_scale_on_queue_depth_down_to_zero(template: dict[str, Any]) -> None:
    (target,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["MinCapacity"] == 0
    assert "WorkerService" in target["ResourceId"]["Fn::Sub"]
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    to_zero = policies["WorkerScaleInPolicy"]["StepScalingPolicyConfiguration"]
    assert to_zero["AdjustmentType"] == "ExactCapacity"
    assert [step["ScalingAdjustment"] for step in to_zero["StepAdjustments"]] == [0]
    idle = resources(template, "AWS::CloudWatch::Alarm")["QueueIdleAlarm"]
    # Nothing waiting *and* nothing in flight: never scale in under a running job.
    assert queue_metrics(idle) == {
        ("ApproximateNumberOfMessagesVisible", "JobQueue"),
        ("ApproximateNumberOfMessagesNotVisible", "JobQueue"),
        ("ApproximateNumberOfMessagesVisible", "CallbackQueue"),
        ("ApproximateNumberOfMessagesNotVisible", "CallbackQueue"),
    }
    waiting = resources(template, "AWS::CloudWatch::Alarm")["JobsWaitingAlarm"]
    assert queue_metrics(waiting) == {
        ("ApproximateNumberOfMessagesVisible", "JobQueue"),
        ("ApproximateNumberOfMessagesVisible", "CallbackQueue"),
    }
    assert waiting["AlarmActions"] == [{"Ref": "WorkerScaleOutPolicy"}]
    assert idle["AlarmActions"] == [{"Ref": "WorkerScaleInPolicy"}]


def queue_metrics(alarm: dict[str, Any]) -> set[tuple[str, str]]:
    """(metric, queue resource) of each SQS metric an alarm's metric math adds up."""
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    return {(m["MetricName"], m["Dimensions"][0]["Value"]["Fn::GetAtt"][0]) for m in stats}


def test_workers_run_on_fargate_spot(template: dict[str, Any]) -> None:
    service = resources(template, "AWS::ECS::Service")["WorkerService"]
    assert [s["CapacityProvider"] for s in service["CapacityProviderStrategy"]] == ["FARGATE_SPOT"]


def test_the_worker_command_exists_and_models_are_at_the_seed_path(
    template: dict[str, Any],
) -> None:
    task = resources(template, "AWS::ECS::TaskDefinition")["WorkerTaskDefinition"]
    (container,) = task["ContainerDefinitions"]
    assert container["Command"][0] in cli_commands()
    (mount,) = container["MountPoints"]
    assert (mount["ContainerPath"], mount["ReadOnly"]) == ("/root/models", True)
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["DSAC_MODELS_DIR"] == "/root/models"
    assert environment["DSAC_BROKER_URL"] == "sqs://"
    assert [s["Name"] for s in container["Secrets"]] == ["PGPASSWORD", "DSAC_SECRET_KEY"]


def test_every_process_that_seals_or_opens_callback_keys_shares_one_key(
    template: dict[str, Any],
) -> None:
    tasks = resources(template, "AWS::ECS::TaskDefinition").values()
    for task in tasks:
        for container in task["ContainerDefinitions"]:
            secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
            assert secrets["DSAC_SECRET_KEY"] == {"Fn::Sub": "${CallbackKeySecret}:key::"}
    for function in resources(template, "AWS::Lambda::Function").values():
        variables = function["Environment"]["Variables"]
        assert variables["DSAC_SECRET_KEY_ARN"] == {"Ref": "CallbackKeySecret"}
    readers = {
        role
        for role, statement in allow_statements(template)
        if statement["Action"] == "secretsmanager:GetSecretValue"
        and statement["Resource"] == {"Ref": "CallbackKeySecret"}
    }
    assert readers == {"TaskExecutionRole", "ApiFunctionRole", "SweeperFunctionRole"}


def test_the_lambda_handlers_exist_and_the_api_sees_the_models(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    for function in functions.values():
        (handler,) = function["ImageConfig"]["Command"]
        module, name = handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name)), handler
    api = functions["ApiFunction"]
    (mount,) = api["FileSystemConfigs"]
    assert api["Environment"]["Variables"]["DSAC_MODELS_DIR"] == mount["LocalMountPath"]
    assert api["Environment"]["Variables"]["DSAC_DB_SECRET_ARN"] == {"Ref": "DatabaseSecret"}


def test_the_job_store_is_private_encrypted_postgresql(template: dict[str, Any]) -> None:
    (database,) = resources(template, "AWS::RDS::DBInstance").values()
    assert database["Engine"] == "postgres"
    assert database["StorageEncrypted"] is True
    assert database["PubliclyAccessible"] is False
    assert "resolve:secretsmanager" in database["MasterUserPassword"]["Fn::Sub"]


def test_orphaned_jobs_are_swept_by_workers_and_every_minute(template: dict[str, Any]) -> None:
    """Workers sweep (the default of `dsac-asr worker`, not turned off), and the scheduled
    sweeper covers the time no worker runs, at EventBridge's shortest period."""
    task = resources(template, "AWS::ECS::TaskDefinition")["WorkerTaskDefinition"]
    (container,) = task["ContainerDefinitions"]
    assert container["Command"][0] == "worker" and "--no-sweep" not in container["Command"]
    schedule = resources(template, "AWS::Events::Rule")["SweeperSchedule"]
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    sweeper = resources(template, "AWS::Lambda::Function")["SweeperFunction"]
    assert sweeper["ImageConfig"]["Command"] == ["dsac_asr.api.aws_lambda.sweep_handler"]
