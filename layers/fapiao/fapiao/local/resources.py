"""Give the template's resources local names and create them in the local AWS.

The same template that AWS deploys decides what exists locally: each table with its key
schema, indexes and TTL, each bucket with encryption and public access blocked, each
event bus. Intrinsic values in function environments (!Ref, !GetAtt, !Sub) resolve to
the local names, so handlers read the same variables they read in Lambda.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from fapiao.local.template import Template, TemplateError

STACK_NAME = "fapiao-local"
ACCOUNT_ID = "123456789012"  # moto's default account


class LocalNames:
    """Resolve the template's intrinsic functions against the local stack."""

    def __init__(self, template: Template, region: str) -> None:
        self.template = template
        self.region = region
        self.pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws-cn" if region.startswith("cn-") else "aws",
            "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
        }

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        parameters = self.template.data.get("Parameters", {})
        if name in parameters:
            return str(parameters[name].get("Default", ""))
        resource = self.template.resources.get(name)
        if resource is None:
            raise TemplateError(f"!Ref to unknown {name}")
        kind = resource["Type"]
        props = resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            return str(self.resolve(props.get("TableName", name)))
        if kind == "AWS::S3::Bucket":
            return str(self.resolve(props.get("BucketName", f"{STACK_NAME}-{name.lower()}")))
        if kind in ("AWS::Events::EventBus", "AWS::SSM::Parameter"):
            return str(self.resolve(props["Name"]))
        if kind == "AWS::SQS::Queue":  # !Ref of a queue is its URL
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{self.queue_name(name)}"
        if kind == "AWS::Serverless::StateMachine":
            partition = self.pseudo["AWS::Partition"]
            machine = self.state_machine_name(name)
            return f"arn:{partition}:states:{self.region}:{ACCOUNT_ID}:stateMachine:{machine}"
        return name

    def state_machine_name(self, name: str) -> str:
        """Its ``Name`` when the template gives one, else its logical id (as the local
        hub has always named it: a kept data folder finds its machines and executions)."""
        props = self.template.resources[name].get("Properties", {})
        return str(self.resolve(props.get("Name", name)))

    def queue_name(self, name: str) -> str:
        props = self.template.resources[name].get("Properties", {})
        return str(self.resolve(props.get("QueueName", f"{STACK_NAME}-{name}")))

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.template.resources.get(name)
        if resource is None:
            raise TemplateError(f"!GetAtt to unknown {name}")
        kind = resource["Type"]
        physical = self.queue_name(name) if kind == "AWS::SQS::Queue" else self.ref(name)
        partition = self.pseudo["AWS::Partition"]
        if attribute == "Arn":
            if kind == "AWS::DynamoDB::Table":
                return f"arn:{partition}:dynamodb:{self.region}:{ACCOUNT_ID}:table/{physical}"
            if kind == "AWS::S3::Bucket":
                return f"arn:{partition}:s3:::{physical}"
            if kind == "AWS::Events::EventBus":
                return f"arn:{partition}:events:{self.region}:{ACCOUNT_ID}:event-bus/{physical}"
            if kind == "AWS::SQS::Queue":
                return f"arn:{partition}:sqs:{self.region}:{ACCOUNT_ID}:{physical}"
            if kind == "AWS::Serverless::Function":
                return f"arn:{partition}:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
            if kind == "AWS::Serverless::StateMachine":
                return physical
        if attribute == "Name" and kind == "AWS::Serverless::StateMachine":
            return self.state_machine_name(name)
        if attribute in ("Name", "QueueName"):
            return physical
        if attribute == "QueueUrl" and kind == "AWS::SQS::Queue":
            return f"http://sqs.{self.region}.localhost:4566/{ACCOUNT_ID}/{physical}"
        raise TemplateError(f"!GetAtt {name}.{attribute} is not known to the local hub")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                return self.get_att(*argument)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(p)) for p in parts)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def function_environment(self, shell: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables every function gets, resolved; conflicting values are an error.

        A variable the template sets from a stack parameter (FAPIAO_VERIFIER from
        Verifier, ...) takes the shell's value when ``shell`` has one, as a parameter
        override would at deploy time; resource names always come from the template.
        """
        parameters = self.template.data.get("Parameters", {})
        environment: dict[str, str] = {}
        for function in self.template.functions:
            for name, value in function.environment.items():
                from_parameter = isinstance(value, dict) and value.get("Ref") in parameters
                if shell and from_parameter and shell.get(name):
                    resolved = shell[name]
                else:
                    resolved = str(self.resolve(value))
                if environment.setdefault(name, resolved) != resolved:
                    raise TemplateError(
                        f"{name} differs between functions; the local hub runs them in one process"
                    )
        return environment


_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


def provision(template: Template, names: LocalNames, session: Any) -> list[str]:
    """Create what the template declares and the local AWS lacks; returns what it made."""
    return [
        *_provision_tables(template, names, session.client("dynamodb")),
        *_provision_buckets(template, names, session.client("s3")),
        *_provision_queues(template, names, session.client("sqs")),
        *_provision_state_machines(template, names, session.client("stepfunctions")),
        *_provision_parameters(template, names, session.client("ssm")),
        *_provision_event_buses(template, names, session.client("events")),
    ]


def _provision_tables(template: Template, names: LocalNames, dynamodb: Any) -> list[str]:
    created: list[str] = []
    for table in template.tables:
        name = names.ref(table.logical_id)
        args = {k: names.resolve(v) for k, v in table.properties.items() if k in _TABLE_KEYS}
        try:
            kept = dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        else:
            # A data folder kept from an earlier template gets the indexes added since,
            # as a deploy would add them; its items stay (and are in the new index).
            created += _add_missing_indexes(dynamodb, name, args, kept)
            continue
        args.setdefault("BillingMode", "PAY_PER_REQUEST")
        dynamodb.create_table(TableName=name, **args)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
            )
        created.append(f"table {name}")
    return created


def _add_missing_indexes(
    dynamodb: Any, name: str, declared: dict[str, Any], kept: dict[str, Any]
) -> list[str]:
    """Create each global secondary index the template declares and the table lacks,
    one per UpdateTable (DynamoDB's limit), naming only the key attributes in use."""
    added: list[str] = []
    have = {index["IndexName"] for index in kept.get("GlobalSecondaryIndexes") or []}
    in_use = {key["AttributeName"] for key in kept.get("KeySchema", [])}
    for index in kept.get("GlobalSecondaryIndexes") or []:
        in_use |= {key["AttributeName"] for key in index["KeySchema"]}
    definitions = declared.get("AttributeDefinitions", [])
    for index in declared.get("GlobalSecondaryIndexes") or []:
        if index["IndexName"] in have:
            continue
        in_use |= {key["AttributeName"] for key in index["KeySchema"]}
        create = {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
        if "ProvisionedThroughput" in index:
            create["ProvisionedThroughput"] = index["ProvisionedThroughput"]
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=[d for d in definitions if d["AttributeName"] in in_use],
            GlobalSecondaryIndexUpdates=[{"Create": create}],
        )
        added.append(f"index {index['IndexName']} of table {name}")
    return added


def _provision_buckets(template: Template, names: LocalNames, s3: Any) -> list[str]:
    created: list[str] = []
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for logical_id in template.buckets:
        name = names.ref(logical_id)
        if name in existing:
            continue
        if names.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": names.region}
            )
        _configure_bucket(s3, name, template.resources[logical_id].get("Properties", {}))
        created.append(f"bucket {name}")
    return created


def _configure_bucket(s3: Any, name: str, props: Mapping[str, Any]) -> None:
    """Encryption, public access block and versioning, as the template declares them."""
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                # CloudFormation's name for the rule differs from the S3 API's
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
        )
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _provision_queues(template: Template, names: LocalNames, sqs: Any) -> list[str]:
    """Queues are created idempotently by SQS itself, so none is reported as made."""
    redrives = {}
    for logical_id in template.queues:  # every queue first: a redrive names another
        props = template.resources[logical_id].get("Properties", {})
        attributes = {
            k: str(names.resolve(v))
            for k, v in props.items()
            if k in ("VisibilityTimeout", "MessageRetentionPeriod")
        }
        url = sqs.create_queue(QueueName=names.queue_name(logical_id), Attributes=attributes)
        if "RedrivePolicy" in props:
            redrives[url["QueueUrl"]] = json.dumps(names.resolve(props["RedrivePolicy"]))
    for url, redrive in redrives.items():
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive})
    return []


def _provision_state_machines(
    template: Template, names: LocalNames, stepfunctions: Any
) -> list[str]:
    created: list[str] = []
    existing = {m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"]}
    for logical_id in template.state_machines:
        props = template.resources[logical_id]["Properties"]
        definition = (template.root / props["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(names.resolve(value)))
        arn = names.ref(logical_id)
        if arn in existing:
            # A data folder kept from an earlier template runs the template's machine,
            # as a deploy would update it; its executions stay.
            kept = stepfunctions.describe_state_machine(stateMachineArn=arn)["definition"]
            if kept != definition:
                stepfunctions.update_state_machine(stateMachineArn=arn, definition=definition)
                created.append(f"state machine {logical_id} updated")
            continue
        stepfunctions.create_state_machine(
            name=names.state_machine_name(logical_id),
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-states",
            type=props.get("Type", "STANDARD"),  # EXPRESS: see fapiao.local.moto_fixes
        )
        created.append(f"state machine {logical_id}")
    return created


def _provision_parameters(template: Template, names: LocalNames, ssm: Any) -> list[str]:
    created: list[str] = []
    for logical_id in template.ssm_parameters:
        name = names.ref(logical_id)
        props = template.resources[logical_id]["Properties"]
        try:
            ssm.get_parameter(Name=name)
            continue  # kept: a value changed in the local AWS outlives a restart
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterNotFound":
                raise
        ssm.put_parameter(
            Name=name, Type=props.get("Type", "String"), Value=str(names.resolve(props["Value"]))
        )
        created.append(f"parameter {name}")
    return created


def _provision_event_buses(template: Template, names: LocalNames, events: Any) -> list[str]:
    created: list[str] = []
    existing = {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}
    for logical_id in template.event_buses:
        name = names.ref(logical_id)
        if name not in existing:
            events.create_event_bus(Name=name)
            created.append(f"event bus {name}")
    return created


def provision_notifications(template: Template, names: LocalNames, session: Any) -> None:
    """Bucket notifications and event rules: after every queue and bus exists."""
    s3 = session.client("s3")
    for logical_id in template.buckets:
        props = template.resources[logical_id].get("Properties", {})
        queues = (props.get("NotificationConfiguration") or {}).get("QueueConfigurations")
        if queues:
            s3.put_bucket_notification_configuration(
                Bucket=names.ref(logical_id),
                NotificationConfiguration={
                    "QueueConfigurations": [
                        {"QueueArn": names.resolve(q["Queue"]), "Events": [q["Event"]]}
                        for q in queues
                    ]
                },
            )
    events = session.client("events")
    for logical_id, resource in template.resources.items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Events::Rule":
            bus = names.resolve(props.get("EventBusName", "default"))
            events.put_rule(
                Name=logical_id,
                EventBusName=bus,
                EventPattern=json.dumps(props["EventPattern"]),
                State="ENABLED",
            )
            events.put_targets(
                Rule=logical_id,
                EventBusName=bus,
                Targets=[{"Id": t["Id"], "Arn": names.resolve(t["Arn"])} for t in props["Targets"]],
            )
