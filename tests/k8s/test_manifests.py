"""k8s/ validates against the Kubernetes schemas and agrees with what the code reads and serves."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import opentelemetry.sdk.environment_variables as otel_variables
import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from starlette.routing import Route

from gateway.app import create_app
from gateway.settings import GatewaySettings
from image_service.settings import ImageSettings
from structurer_service.settings import StructurerSettings

from .kustomize_render import (
    K8S,
    ROOT,
    SECRET_TEMPLATE,
    Obj,
    kustomizations,
    load_documents,
)

# The three most recent Kubernetes minor versions whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.35.0", "1.36.0", "1.37.0")

SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "structurer_service": StructurerSettings,
    "image_service": ImageSettings,
}
GRPC_SERVICES = ("structurer_service", "image_service")
PROVIDER_KEYS = {"ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY"}
OTEL_VARIABLES = {name for name in dir(otel_variables) if name.startswith("OTEL_")}
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
)
TARGET = re.compile(
    r"^dns:///(?P<host>[a-z0-9-]+)(?:\.(?P<namespace>[a-z0-9-]+))?(?:\.svc(?:\.cluster\.local)?)?:(?P<port>\d+)$"
)

RENDERINGS = [str(path.relative_to(K8S)) for path in kustomizations()]
PROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


# ---------------------------------------------------------------- helpers over rendered objects


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    (found,) = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    return found


def pod_spec(deployment: Obj) -> Obj:
    spec: Obj = deployment["spec"]["template"]["spec"]
    return spec


def pod_labels(deployment: Obj) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def selected(objects: list[Obj], selector: Obj) -> list[Obj]:
    """Deployments whose pods a {matchLabels: ...} selector (or {}: every pod) selects."""
    if set(selector) - {"matchLabels"}:
        raise AssertionError(f"only matchLabels selectors are checked here, got {selector}")
    labels = selector.get("matchLabels", {})
    return [d for d in of_kind(objects, "Deployment") if selects(labels, pod_labels(d))]


def module_of(container: Obj) -> str | None:
    command = container.get("command", [])
    if command[:2] == ["python", "-m"] and len(command) == 3:
        return str(command[2])
    return None


def service_container(objects: list[Obj], module: str) -> tuple[Obj, Obj]:
    matches = [
        (deployment, container)
        for deployment in of_kind(objects, "Deployment")
        for container in pod_spec(deployment)["containers"]
        if module_of(container) == module
    ]
    assert len(matches) == 1, f"{module}: expected one Deployment running it, found {len(matches)}"
    return matches[0]


def secret_template() -> Obj:
    (secret,) = load_documents(SECRET_TEMPLATE)
    return secret


def container_env(container: Obj, objects: list[Obj]) -> dict[str, str]:
    """The environment the container starts with (envFrom first, env entries override)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]
            env.update(named(objects, "ConfigMap", ref["name"]).get("data", {}))
        elif "secretRef" in source:
            ref = source["secretRef"]
            template = secret_template()
            assert ref["name"] == template["metadata"]["name"], f"unknown Secret {ref['name']}"
            assert ref.get("optional") is True, "the keys Secret is optional: local runs need none"
            env.update(dict.fromkeys(template["stringData"], "from-secret"))
        else:
            raise AssertionError(f"unexpected envFrom source {source}")
    for entry in container.get("env", []):
        assert "value" in entry, f"{entry['name']}: only literal values are checked"
        env[entry["name"]] = str(entry["value"])
    return env


def env_names(settings: type[BaseSettings]) -> dict[str, str]:
    """Environment variable name -> field name, as pydantic-settings reads them."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            # An aliased field is read from its aliases only, without the prefix.
            choices = [choice for choice in alias.choices if isinstance(choice, str)]
        else:
            choices = [alias if isinstance(alias, str) else prefix + field_name]
        names.update({choice.upper(): field_name for choice in choices})
    return names


def load_settings(
    settings: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The settings object the service builds at start-up from exactly this environment."""
    import os

    for name in list(os.environ):
        if name.startswith("CASECRAFT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings()


def resolve_port(container: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return int(number)


def metrics_port(module: str, settings: Any) -> int:
    """Where the service serves /metrics: the gateway on its HTTP port, the others on their own."""
    return int(settings.gateway_port if module == "gateway" else settings.metrics_port)


def probes(container: Obj) -> dict[str, Obj]:
    kinds = ("startupProbe", "readinessProbe", "livenessProbe")
    return {kind: container[kind] for kind in kinds if kind in container}


# ------------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schema(
    rendered: dict[str, list[Obj]], version: str
) -> None:
    objects = [(name, obj) for name, rendering in rendered.items() for obj in rendering]
    objects.append((str(SECRET_TEMPLATE.relative_to(K8S)), secret_template()))
    problems = []
    for where, obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(
                f"{where}: {obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}"
            )
    assert not problems, "\n".join(problems)


def test_there_is_a_base_and_an_overlay_and_every_component_is_used() -> None:
    assert {"base", "overlays/example"} <= set(RENDERINGS)
    used = set()
    for path in kustomizations():
        (kustomization,) = load_documents(path / "kustomization.yaml")
        used |= {(path / entry).resolve() for entry in kustomization.get("components", [])}
    components = set(kustomizations("Component"))
    assert {p.relative_to(K8S).as_posix() for p in components} == {
        "components/redis",
        "components/otel-collector",
    }
    assert components <= used, f"components no overlay enables: {components - used}"


# --------------------------------------------------------------------- settings and ports


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("module", SETTINGS)
def test_every_environment_variable_is_one_the_code_reads(
    rendered: dict[str, list[Obj]], rendering: str, module: str
) -> None:
    objects = rendered[rendering]
    _, container = service_container(objects, module)
    known = set(env_names(SETTINGS[module])) | OTEL_VARIABLES
    if module in GRPC_SERVICES:
        known |= PROVIDER_KEYS
    unknown = set(container_env(container, objects)) - known
    assert not unknown, f"{module} is given variables nothing reads: {sorted(unknown)}"


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("module", SETTINGS)
def test_every_setting_parses_and_every_required_one_is_provided(
    rendered: dict[str, list[Obj]], rendering: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = rendered[rendering]
    _, container = service_container(objects, module)
    env = container_env(container, objects)
    names = env_names(SETTINGS[module])
    required = {
        name for name, field in names.items() if SETTINGS[module].model_fields[field].is_required()
    }
    assert required <= set(env), f"{module} lacks required settings {sorted(required - set(env))}"
    load_settings(SETTINGS[module], env, monkeypatch)  # raises when a value does not parse


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_the_gateway_shares_redis_exactly_when_the_redis_component_is_composed(
    rendered: dict[str, list[Obj]], rendering: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = rendered[rendering]
    _, container = service_container(objects, "gateway")
    settings = load_settings(GatewaySettings, container_env(container, objects), monkeypatch)
    redis = [s for s in of_kind(objects, "Service") if s["metadata"]["name"] == "casecraft-redis"]
    if not redis:
        assert settings.redis_url is None and settings.quota_storage == "memory://"
        return
    url = urlsplit(settings.redis_url)
    assert (url.hostname, url.port) == ("casecraft-redis", redis[0]["spec"]["ports"][0]["port"])
    assert settings.quota_storage == settings.redis_url  # every replica counts the same quotas


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("module", SETTINGS)
def test_container_and_probe_ports_are_the_port_the_service_listens_on(
    rendered: dict[str, list[Obj]], rendering: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = rendered[rendering]
    _, container = service_container(objects, module)
    settings = load_settings(SETTINGS[module], container_env(container, objects), monkeypatch)
    host, port = (
        (settings.gateway_host, settings.gateway_port)
        if module == "gateway"
        else (settings.host, settings.port)
    )
    # The gRPC services' metrics server binds this host too.
    assert host == "0.0.0.0", f"{module} must listen on every interface in a pod, not {host}"
    if module in GRPC_SERVICES:
        assert settings.metrics_port not in (0, port), f"{module}: a fixed, separate metrics port"
        assert [p["containerPort"] for p in container["ports"]] == [port, settings.metrics_port]
        assert resolve_port(container, "grpc") == port
        assert resolve_port(container, "metrics") == settings.metrics_port
    else:
        assert [p["containerPort"] for p in container["ports"]] == [port]
    found = probes(container)
    assert set(found) == {"startupProbe", "readinessProbe", "livenessProbe"}
    for kind, probe in found.items():
        if module in GRPC_SERVICES:
            assert set(probe) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}, kind
            assert probe["grpc"]["port"] == port, f"{module} {kind}"
        else:
            assert set(probe) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"httpGet"}, kind
            assert resolve_port(container, probe["httpGet"]["port"]) == port, f"{module} {kind}"


def test_gateway_probes_ask_the_routes_that_say_ready_and_alive(
    base: list[Obj],
) -> None:
    _, container = service_container(base, "gateway")
    paths = {
        route.path for route in create_app(GatewaySettings()).routes if isinstance(route, Route)
    }
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in probes(container).values():
        assert probe["httpGet"]["path"] in paths


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("module", SETTINGS)
def test_pods_tell_prometheus_where_their_metrics_are(
    rendered: dict[str, list[Obj]], rendering: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = rendered[rendering]
    deployment, container = service_container(objects, module)
    env = container_env(container, objects)
    if module in GRPC_SERVICES:
        prefix = str(SETTINGS[module].model_config.get("env_prefix", ""))
        # Explicit, so that the manifests and not a code default decide the port scraped.
        assert f"{prefix}METRICS_PORT" in env
    settings = load_settings(SETTINGS[module], env, monkeypatch)
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert {k: v for k, v in annotations.items() if k.startswith("prometheus.io/")} == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(metrics_port(module, settings)),
        "prometheus.io/path": "/metrics",
    }
    assert metrics_port(module, settings) in [p["containerPort"] for p in container["ports"]]
    if module == "gateway":
        app = create_app(GatewaySettings(api_keys_file=None))  # the keys are mounted in a pod
        assert "/metrics" in {route.path for route in app.routes if isinstance(route, Route)}


@pytest.mark.parametrize("module", SETTINGS)
def test_pods_get_longer_to_stop_than_the_service_drains(
    base: list[Obj], module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment, container = service_container(base, module)
    env = container_env(container, base)
    prefix = str(SETTINGS[module].model_config.get("env_prefix", ""))
    # Explicit, so that the manifests and not a code default decide the drain.
    assert f"{prefix}SHUTDOWN_GRACE_S" in env
    if module in GRPC_SERVICES:
        assert f"{prefix}MAX_CONNECTION_AGE_S" in env
    settings = load_settings(SETTINGS[module], env, monkeypatch)
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    assert set(pre_stop) <= {"sleep"}, "the image has no shell; only the kubelet's sleep works"
    sleep_s = pre_stop.get("sleep", {}).get("seconds", 0)
    termination_s = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert sleep_s + settings.shutdown_grace_s < termination_s


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_service_target_ports_are_container_ports(
    rendered: dict[str, list[Obj]], rendering: str
) -> None:
    objects = rendered[rendering]
    for service in of_kind(objects, "Service"):
        name = service["metadata"]["name"]
        (deployment,) = selected(objects, {"matchLabels": service["spec"]["selector"]})
        (container,) = pod_spec(deployment)["containers"]
        for port in service["spec"]["ports"]:
            target = resolve_port(container, port.get("targetPort", port["port"]))
            assert target in [p["containerPort"] for p in container["ports"]], name
            if service["spec"].get("clusterIP") == "None":
                # Clients of a headless Service dial the pods directly: no port mapping.
                assert port["port"] == target, name


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize(
    ("field", "module"),
    [("structurer_target", "structurer_service"), ("image_target", "image_service")],
)
def test_gateway_dials_headless_services_that_reach_the_right_pods(
    rendered: dict[str, list[Obj]],
    rendering: str,
    field: str,
    module: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = rendered[rendering]
    _, gateway = service_container(objects, "gateway")
    settings = load_settings(GatewaySettings, container_env(gateway, objects), monkeypatch)
    match = TARGET.match(getattr(settings, field))
    assert match, (
        f"{field}={getattr(settings, field)!r} is not dns:///<service>[.<namespace>]:<port>"
    )
    service = named(objects, "Service", match["host"])
    if match["namespace"]:
        assert match["namespace"] == service["metadata"].get("namespace")
    assert service["spec"].get("clusterIP") == "None", "round_robin needs a headless Service"
    port = int(match["port"])
    assert port in [p["port"] for p in service["spec"]["ports"]]
    (deployment,) = selected(objects, {"matchLabels": service["spec"]["selector"]})
    (container,) = pod_spec(deployment)["containers"]
    assert module_of(container) == module
    listening = load_settings(SETTINGS[module], container_env(container, objects), monkeypatch)
    assert listening.port == port


# ----------------------------------------------------------------------- network policies


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_network_policies_select_real_pods_and_ports(
    rendered: dict[str, list[Obj]], rendering: str
) -> None:
    objects = rendered[rendering]
    deployments = of_kind(objects, "Deployment")
    policies = of_kind(objects, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"].get("policyTypes") == ["Ingress"] and not p["spec"].get("ingress")
    ]
    assert len(deny) == 1, "one default-deny ingress policy"
    assert len(selected(objects, deny[0]["spec"]["podSelector"])) == len(deployments)
    for policy in policies:
        name = policy["metadata"]["name"]
        targets = selected(objects, policy["spec"]["podSelector"])
        assert targets, f"{name} selects no pods"
        ports = {
            p["containerPort"]
            for d in targets
            for c in pod_spec(d)["containers"]
            for p in c["ports"]
        }
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                assert set(peer) == {"podSelector"}, f"{name}: peers are pods of this namespace"
                assert selected(objects, peer["podSelector"]), f"{name}: a peer selects no pods"
            for port in rule["ports"]:
                assert port["port"] in ports, f"{name}: port {port['port']} is not a pod port"


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("module", GRPC_SERVICES)
def test_only_the_gateway_reaches_the_grpc_services_and_namespace_pods_their_metrics(
    rendered: dict[str, list[Obj]], rendering: str, module: str
) -> None:
    objects = rendered[rendering]
    deployment, container = service_container(objects, module)
    gateway, _ = service_container(objects, "gateway")
    grpc_port, scrape_port = resolve_port(container, "grpc"), resolve_port(container, "metrics")
    rules = [
        rule
        for policy in of_kind(objects, "NetworkPolicy")
        if deployment in selected(objects, policy["spec"]["podSelector"])
        for rule in policy["spec"].get("ingress", [])
    ]
    admitted: dict[int, list[Obj]] = {}
    for rule in rules:
        assert rule.get("from"), f"{module}: a rule without `from` admits every namespace"
        (port,) = [p["port"] for p in rule["ports"]]
        admitted.setdefault(port, []).extend(rule["from"])
    assert set(admitted) == {grpc_port, scrape_port}, f"{module}: admitted ports {set(admitted)}"
    for peer in admitted[grpc_port]:
        assert selected(objects, peer["podSelector"]) == [gateway]
    # Any pod of the namespace may scrape (see networkpolicies.yaml), and nothing from elsewhere.
    assert admitted[scrape_port] == [{"podSelector": {}}]


def test_the_gateway_is_reachable_on_its_http_port(base: list[Obj]) -> None:
    gateway, container = service_container(base, "gateway")
    allowed = [
        port["port"]
        for policy in of_kind(base, "NetworkPolicy")
        if gateway in selected(base, policy["spec"]["podSelector"])
        for rule in policy["spec"].get("ingress", [])
        for port in rule["ports"]
    ]
    assert allowed == [container["ports"][0]["containerPort"]]


# ---------------------------------------------------------------- workloads and hardening


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_every_pod_is_hardened(rendered: dict[str, list[Obj]], rendering: str) -> None:
    objects = rendered[rendering]
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        account = named(objects, "ServiceAccount", spec["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True and context["runAsUser"] > 0, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, name
            (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], f"{name}: /tmp is a writable emptyDir"
            assert not container["image"].endswith(":latest") and ":" in container["image"], name


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_every_object_carries_the_recommended_labels(
    rendered: dict[str, list[Obj]], rendering: str
) -> None:
    for obj in rendered[rendering]:
        labels = obj["metadata"].get("labels", {})
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert labels.get("app.kubernetes.io/part-of") == "casecraft", where
        if obj["kind"] not in {"Namespace", "NetworkPolicy"} or "app.kubernetes.io/name" in labels:
            assert set(RECOMMENDED_LABELS) <= set(labels), where
        if obj["kind"] == "Deployment":
            template = pod_labels(obj)
            assert set(RECOMMENDED_LABELS) <= set(template), where
            selector = obj["spec"]["selector"]["matchLabels"]
            assert "app.kubernetes.io/version" not in selector, f"{where}: selectors are immutable"
            assert selects(selector, template), where


@pytest.mark.parametrize("module", SETTINGS)
def test_each_service_has_its_account_config_service_autoscaler_and_budget(
    base: list[Obj], module: str
) -> None:
    deployment, container = service_container(base, module)
    name = deployment["metadata"]["name"]
    for kind in (
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ):
        named(base, kind, name)
    assert importlib.util.find_spec(f"{module}.__main__"), f"python -m {module} cannot run"
    assert container["image"] == f"casecraft:{PROJECT_VERSION}"
    assert pod_labels(deployment)["app.kubernetes.io/version"] == PROJECT_VERSION
    service = named(base, "Service", name)
    assert (service["spec"].get("clusterIP") == "None") == (module in GRPC_SERVICES)


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_autoscalers_own_the_replica_count_and_budgets_cover_each_service(
    rendered: dict[str, list[Obj]], rendering: str
) -> None:
    objects = rendered[rendering]
    scaled = set()
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        deployment = named(objects, "Deployment", target["name"])
        assert "replicas" not in deployment["spec"], f"{target['name']}: let the HPA set replicas"
        assert hpa["spec"]["minReplicas"] >= 2, "one pod cannot drain while another serves"
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        scaled.add(target["name"])
    budgeted = set()
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        (deployment,) = selected(objects, pdb["spec"]["selector"])
        budgeted.add(deployment["metadata"]["name"])
    casecraft = {service_container(objects, module)[0]["metadata"]["name"] for module in SETTINGS}
    assert scaled == budgeted == casecraft


# ---------------------------------------------------------------------- secrets and image


def test_the_secret_is_a_template_of_placeholders_that_no_kustomization_applies(
    rendered: dict[str, list[Obj]],
) -> None:
    secret = secret_template()
    assert set(secret["stringData"]) == PROVIDER_KEYS
    for key, value in secret["stringData"].items():
        assert value.startswith("REPLACE_ME"), f"{key}: only placeholders belong in the repository"
    for rendering in rendered.values():
        assert not of_kind(rendering, "Secret"), "re-applying must never overwrite real keys"
    base = rendered["base"]
    for module in SETTINGS:
        _, container = service_container(base, module)
        refs = [s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s]
        assert refs == ([secret["metadata"]["name"]] if module in GRPC_SERVICES else [])


def test_the_dockerfile_builds_a_pinned_non_root_image_without_secrets() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base[1]), "pin python by version"
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(stages) == 2 and " AS builder" in lines[stages[0]]
    builder, final = lines[stages[0] : stages[1]], lines[stages[1] :]
    assert any("pip wheel" in line for line in builder)
    assert not any(re.search(r"apt-get|gcc|build-essential|pip wheel", line) for line in final)
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and re.fullmatch(r"(\d+|\$\{UID\})(:(\d+|\$\{UID\}))?", users[-1])
    assert re.search(r"^ARG UID=\d+$", "\n".join(final), re.M)
    assert "PYTHONUNBUFFERED=1" in text
    assert not re.search(r"API_KEY|SECRET|TOKEN|PASSWORD", text, re.I)
    ignored = [
        line for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] not in "#"
    ]
    assert ignored[0] == "*", ".dockerignore allow-lists the build context"


def test_the_gateway_needs_api_keys_read_from_a_mounted_secret_that_no_kustomization_applies(
    rendered: dict[str, list[Obj]],
) -> None:
    template = load_documents(ROOT / "k8s" / "secrets" / "api-keys.template.yaml")[0]
    keys_file = template["stringData"]["keys"]
    assert "REPLACE_ME" in keys_file, "only placeholders belong in the repository"
    for rendering in rendered.values():
        deployment, container = service_container(rendering, "gateway")
        path = container_env(container, rendering)["CASECRAFT_API_KEYS_FILE"]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        (name,) = [n for n, m in mounts.items() if path.startswith(m["mountPath"] + "/")]
        assert mounts[name]["readOnly"] is True
        secret = volumes[name]["secret"]
        assert secret["secretName"] == template["metadata"]["name"]
        assert not secret.get("optional"), "without its keys the gateway would be open"
        assert path.rpartition("/")[2] in template["stringData"]
