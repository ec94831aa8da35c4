"""template.yaml is the one source of tables, bucket, bus and routes; check what it says."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from fapiao.local.resources import LocalNames
from fapiao.local.template import Template, TemplateError, load_template
from support import TEMPLATE


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(TEMPLATE)


def test_invoices_are_unique_on_the_invoice_key(template: Template) -> None:
    table = template.table("InvoicesTable")
    assert table.key_schema == {"HASH": "invoice_key"}
    assert table.properties["BillingMode"] == "PAY_PER_REQUEST"


def test_idempotency_table_matches_powertools_persistence_defaults(template: Template) -> None:
    table = template.table("IdempotencyTable")
    layer = DynamoDBPersistenceLayer(table_name="unused", boto3_client=object())  # type: ignore[arg-type]
    assert table.key_schema == {"HASH": layer.key_attr}
    assert table.ttl_attribute == layer.expiry_attr


def test_drop_bucket_is_encrypted_and_private(template: Template) -> None:
    props = template.resources["DropBucket"]["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4


def test_functions_run_on_python312_or_newer_arm64(template: Template) -> None:
    function_globals = template.data["Globals"]["Function"]
    major, minor = function_globals["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)
    assert function_globals["Architectures"] == ["arm64"]
    assert template.resources["FapiaoLayer"]["Metadata"]["BuildMethod"] == "makefile"


def test_every_function_handler_exists(template: Template) -> None:
    assert template.functions, "the template declares no function"
    for function in template.functions:
        module, _, attribute = function.handler.rpartition(".")
        source = template.root / function.code_uri / f"{module}.py"
        tree = ast.parse(source.read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert attribute in names, f"{function.logical_id}: {source} has no {attribute}"


def test_routes_come_from_api_events(template: Template) -> None:
    routes = {(r.method, r.path): r.function for r in template.routes}
    assert routes[("GET", "/health")] == "HealthFunction"


def test_short_form_intrinsics_parse(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n  A:\n    Type: X\n    Properties:\n"
        "      R: !Ref B\n      G: !GetAtt B.Arn\n      S: !Sub '${AWS::Region}-x'\n"
        "      J: !Join [',', [a, !Ref B]]\n",
        encoding="utf-8",
    )
    props = load_template(path)["Resources"]["A"]["Properties"]
    assert props["R"] == {"Ref": "B"}
    assert props["G"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["S"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert props["J"] == {"Fn::Join": [",", ["a", {"Ref": "B"}]]}


def test_a_file_without_resources_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Description: nothing\n", encoding="utf-8")
    with pytest.raises(TemplateError):
        load_template(path)


def test_local_names_resolve_the_function_environment(template: Template) -> None:
    names = LocalNames(template, "cn-north-1")
    env = names.function_environment()
    assert env["FAPIAO_INVOICES_TABLE"] == "InvoicesTable"
    assert env["FAPIAO_EVENT_BUS"] == "fapiao-local-events"
    assert env["FAPIAO_DROP_BUCKET"] == names.ref("DropBucket")
    assert names.get_att("DropBucket", "Arn") == f"arn:aws-cn:s3:::{env['FAPIAO_DROP_BUCKET']}"
    assert names.resolve({"Fn::Sub": "${DropBucket.Arn}/*"}).endswith(
        ":::fapiao-local-dropbucket/*"
    )


def test_the_shell_overrides_parameter_values_but_not_resource_names(template: Template) -> None:
    names = LocalNames(template, "cn-north-1")
    env = names.function_environment(
        shell={"FAPIAO_VERIFIER": "exocr", "FAPIAO_INVOICES_TABLE": "elsewhere"}
    )
    assert env["FAPIAO_VERIFIER"] == "exocr"
    assert env["FAPIAO_INVOICES_TABLE"] == "InvoicesTable"
    assert names.function_environment()["FAPIAO_VERIFIER"] == "offline"
