"""Read template.yaml: the one place that names tables, bucket, bus, functions and routes.

The local hub builds its local AWS and its routes from what this module finds, and the
tests read key schemas through it, so code and template cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(ValueError):
    pass


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic functions (!Ref, !Sub, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} has no Resources")
    return data


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # /common/invoice/create, may hold {param} or {proxy+}
    function: str  # logical id
    authorizer: str | None = None  # logical id of the authorizer function, None for open

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    code_uri: Path  # relative to the template's folder
    handler: str  # module.attribute
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    logical_id: str
    properties: dict[str, Any]

    @property
    def key_schema(self) -> dict[str, str]:
        """KeyType -> attribute name, e.g. {"HASH": "invoice_key"}."""
        return {k["KeyType"]: k["AttributeName"] for k in self.properties["KeySchema"]}

    @property
    def ttl_attribute(self) -> str | None:
        spec = self.properties.get("TimeToLiveSpecification") or {}
        return spec.get("AttributeName") if spec.get("Enabled") else None


class Template:
    """The parts of a SAM template the hub needs, with intrinsic values left as found."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        self.data = load_template(path)
        self.resources: dict[str, dict[str, Any]] = self.data["Resources"]

    def _of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == type_name}

    @property
    def tables(self) -> list[Table]:
        return [
            Table(k, v.get("Properties", {}))
            for k, v in self._of_type("AWS::DynamoDB::Table").items()
        ]

    def table(self, logical_id: str) -> Table:
        for table in self.tables:
            if table.logical_id == logical_id:
                return table
        raise TemplateError(f"no table {logical_id} in {self.path}")

    @property
    def buckets(self) -> list[str]:
        return list(self._of_type("AWS::S3::Bucket"))

    @property
    def sqs_event_sources(self) -> list[tuple[str, str, int]]:
        """(function, queue logical id, batch size) of every SQS event of a function."""
        sources = []
        for logical_id, resource in self._of_type("AWS::Serverless::Function").items():
            for event in (resource.get("Properties", {}).get("Events") or {}).values():
                if event.get("Type") != "SQS":
                    continue
                queue = event["Properties"]["Queue"]
                queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) else str(queue)
                sources.append(
                    (logical_id, queue_id, int(event["Properties"].get("BatchSize", 10)))
                )
        return sources

    @property
    def state_machines(self) -> list[str]:
        return list(self._of_type("AWS::Serverless::StateMachine"))

    @property
    def queues(self) -> list[str]:
        return list(self._of_type("AWS::SQS::Queue"))

    @property
    def ssm_parameters(self) -> list[str]:
        return list(self._of_type("AWS::SSM::Parameter"))

    @property
    def event_buses(self) -> list[str]:
        return list(self._of_type("AWS::Events::EventBus"))

    @property
    def functions(self) -> list[FunctionDef]:
        globals_env = (self.data.get("Globals", {}).get("Function", {}).get("Environment", {})).get(
            "Variables", {}
        )
        result = []
        for logical_id, resource in self._of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = dict(globals_env)
            env.update(props.get("Environment", {}).get("Variables", {}))
            result.append(FunctionDef(logical_id, Path(props["CodeUri"]), props["Handler"], env))
        return result

    def _authorizers(self, api: str | None) -> tuple[str | None, dict[str, str]]:
        """(default authorizer name, authorizer name -> function logical id) of an API."""
        if api is None or api not in self.resources:
            return None, {}
        auth = self.resources[api].get("Properties", {}).get("Auth", {}) or {}
        functions = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            arn = spec.get("FunctionArn", {})
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                functions[name] = arn["Fn::GetAtt"][0]
        return auth.get("DefaultAuthorizer"), functions

    @property
    def routes(self) -> list[Route]:
        routes = []
        for logical_id, resource in self._of_type("AWS::Serverless::Function").items():
            events = resource.get("Properties", {}).get("Events", {}) or {}
            for event in events.values():
                if event.get("Type") != "Api":
                    continue
                props = event["Properties"]
                api = props.get("RestApiId", {}).get("Ref") if props.get("RestApiId") else None
                default, authorizers = self._authorizers(api)
                name = (props.get("Auth") or {}).get("Authorizer", default)
                authorizer = None if name in (None, "NONE") else authorizers[name]
                routes.append(Route(props["Method"].upper(), props["Path"], logical_id, authorizer))
        return routes

    @property
    def throttles(self) -> dict[tuple[str, str], tuple[float, int]]:
        """(path, METHOD) -> (requests per second, burst) of the usage plans' method
        throttles: API Gateway applies them per API key, the local hub per client."""
        result: dict[tuple[str, str], tuple[float, int]] = {}
        for plan in self._of_type("AWS::ApiGateway::UsagePlan").values():
            for stage in plan.get("Properties", {}).get("ApiStages", []) or []:
                for target, limit in (stage.get("Throttle") or {}).items():
                    path, _, method = target.rpartition("/")
                    result[(path, method.upper())] = (
                        float(limit["RateLimit"]),
                        int(limit.get("BurstLimit", 1)),
                    )
        return result

    @property
    def binary_media_types(self) -> tuple[str, ...]:
        """The APIs' BinaryMediaTypes as media types (the template writes ``/`` as ``~1``)."""
        return tuple(
            str(media_type).replace("~1", "/")
            for api in self._of_type("AWS::Serverless::Api").values()
            for media_type in api.get("Properties", {}).get("BinaryMediaTypes") or []
        )

    def gateway_response(self, response_type: str) -> tuple[int, str] | None:
        """(status, application/json template) of a gateway response the template sets."""
        for resource in self._of_type("AWS::ApiGateway::GatewayResponse").values():
            props = resource.get("Properties", {})
            if props.get("ResponseType") == response_type:
                template = (props.get("ResponseTemplates") or {}).get("application/json", "")
                return int(props.get("StatusCode", 403)), template
        return None
