"""Bad inputs as a table: each case runs the chain as a user does (ansible-playbook -i <inventory>
playbooks/weekN.yml) with one bad input, against the local cluster, and checks the exit code, a message
that names the variable or file and what was expected, and that nothing was written to the
namespace, the release record included.

Every case ends ERROR, exit code 4 (docs/verdicts.md): most in the preflight (playbooks/preflight.yml,
"Preflight ERROR: <check>: <message>"), a release record that cannot be used where the chain reads
it, before the guard ("Week 2 ERROR: ... Cause: config. Nothing was written."). A case that needs no existing objects gets a namespace name of its own that must not exist
afterwards; a case that needs existing objects (a record, service accounts) has its objects'
resourceVersions compared before and after. The cases run two at a time (one ansible-playbook each)
in a module fixture; each case is its own test.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client

from chainkit import INVENTORY, SERVICE
from clusterkit import REGISTRY, delete_namespace, exists, unique_name
from playbookrun import ROOT, Command, ansible_env, ansible_playbook, week_vars

KUBECONFIG = ROOT / ".local" / "kubeconfig"
CLUSTER_PKI = ROOT / ".local" / "cluster" / "pki"
# Never pulled: every case fails before a pod could start.
IMAGE = f"{REGISTRY}/vextrus-test/bad-inputs@sha256:" + "a" * 64
GOOD_SECRETS = {
    "vault_deploy_secret_jwt": "j" * 48,
    "vault_deploy_secret_database_url": "postgresql://finance:pw@postgres:5432/finance",
    "vault_deploy_secret_eventstore_url": "esdb://admin:pw@eventstore:2113?tls=false",
}
VAULT_PASSWORD = "the-right-vault-password"
RECORD_NAME = f"{SERVICE}-release"
PARALLEL = 2
# The namespaced kinds compared before and after a case in an existing namespace.
NAMESPACED_LISTS: dict[str, Callable[[client.ApiClient, str], list[Any]]] = {
    "configmaps": lambda api, ns: client.CoreV1Api(api).list_namespaced_config_map(ns).items,
    "secrets": lambda api, ns: client.CoreV1Api(api).list_namespaced_secret(ns).items,
    "serviceaccounts": lambda api, ns: client.CoreV1Api(api).list_namespaced_service_account(ns).items,
    "services": lambda api, ns: client.CoreV1Api(api).list_namespaced_service(ns).items,
    "deployments": lambda api, ns: client.AppsV1Api(api).list_namespaced_deployment(ns).items,
    "hpas": lambda api, ns: client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler(ns).items,
    "pdbs": lambda api, ns: client.PolicyV1Api(api).list_namespaced_pod_disruption_budget(ns).items,
    "networkpolicies": lambda api, ns: client.NetworkingV1Api(api).list_namespaced_network_policy(ns).items,
    "roles": lambda api, ns: client.RbacAuthorizationV1Api(api).list_namespaced_role(ns).items,
    "rolebindings": lambda api, ns: client.RbacAuthorizationV1Api(api).list_namespaced_role_binding(ns).items,
    "leases": lambda api, ns: client.CoordinationV1Api(api).list_namespaced_lease(ns).items,
}


@dataclass(frozen=True)
class Case:
    """One bad input: extra variables over the local inventory's (or another inventory), the week, what
    the output must say, and what the case needs (an existing namespace with a record or service
    accounts, a kubeconfig, vault-encrypted secrets)."""

    id: str
    says: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    week: int = 1
    # local | staging | staging-without-registry | vault (the local profile, secrets from a vault file)
    inventory: str = "local"
    secrets: dict[str, Any] | None = None
    vault_password: str = VAULT_PASSWORD
    # "" admin | missing | closed-port | foreign-client-cert | expired-client-cert | foreign-server-ca
    # | no-rights | namespace-denied
    kubeconfig: str = ""
    # the release record's ConfigMap data in a namespace made for the case
    record: dict[str, str] | None = None


def _record(**changes: Any) -> dict[str, str]:
    """The data of a record ConfigMap after week 1 of one release, with release.json fields changed;
    the flat keys follow release.json unless given with a 'flat_' prefix."""
    record = {
        "schema": 1, "service": SERVICE, "release": 1, "state": "IN_PROGRESS", "candidate": IMAGE,
        "previous_stable": "", "highest_week_passed": 1, "failed_week": None, "updated": "2026-12-01T10:05:00Z",
        "runs": [{"release": 1, "action": "week", "week": 1, "digest": IMAGE, "verdict": "PASS",
                  "started": "2026-12-01T10:00:00Z", "finished": "2026-12-01T10:05:00Z", "by": "user ops", "forced": False}],
    }
    flat = {k[5:]: v for k, v in changes.items() if k.startswith("flat_")}
    record.update({k: v for k, v in changes.items() if not k.startswith("flat_")})
    data = {
        "release.json": json.dumps(record),
        "state": str(record.get("state")),
        "candidate": str(record.get("candidate")),
        "previous-stable": str(record.get("previous_stable")),
        "highest-week-passed": str(record.get("highest_week_passed")),
    }
    data.update(flat)
    return data


WEEKS = {"1": 10, "2": 30, "3": 60, "4": 100}
RESOURCES_CPU_BELOW = {"requests": {"cpu": "500m", "memory": "96Mi"}, "limits": {"cpu": "100m", "memory": "512Mi"}}
RESOURCES_MEMORY_BELOW = {"requests": {"cpu": "25m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
RESOURCES_NOT_QUANTITY = {"requests": {"cpu": "25m", "memory": "lots"}, "limits": {"cpu": "1", "memory": "512Mi"}}
DNS_LABEL = "must be DNS-1123 labels"

CASES: list[Case] = [
    # --- the week and the week table
    Case("week-0", ("rollout_week must be one of 1, 2, 3, 4, got 0",), {"rollout_week": 0}),
    Case("week-9", ("rollout_week must be one of 1, 2, 3, 4, got 9",), {"rollout_week": 9}),
    Case("week-text", ("rollout_week must be one of 1, 2, 3, 4, got 'two'",), {"rollout_week": "two"}),
    Case("weights-not-increasing", ("weights must increase strictly week by week", "rollout_weights"),
         {"rollout_weights": {"1": 30, "2": 10, "3": 60, "4": 100}}),
    Case("weight-above-100", ("weight of week 4 must be between 0 and 100 (percent), got 120",),
         {"rollout_weights": {**WEEKS, "4": 120}}),
    Case("weights-not-a-table", ("rollout_weights",), {"rollout_weights": "10,30,60,100"}),
    # --- sizes and the rolling update
    Case("replicas-0", ("replicas 0 (inventory deploy_replicas", "must be >= 1"), {"deploy_replicas": 0, "deploy_hpa_min": 1}),
    Case("replicas-1", ("replicas 1 (inventory deploy_replicas", "expected at least 2"),
         {"deploy_replicas": 1, "deploy_hpa_min": 1}),
    Case("replicas-50000", ("replicas 50000 (inventory deploy_replicas", "at most resource_apply_max_replicas (500)"),
         {"deploy_replicas": 50000, "deploy_hpa_max": 50000}),
    Case("replicas-above-hpa-max", ("replicas 8 (inventory deploy_replicas", "within the HPA bounds 2..6"),
         {"deploy_replicas": 8}),
    Case("hpa-min-above-max", ("within the HPA bounds 5..3", "deploy_hpa_min / deploy_hpa_max"),
         {"deploy_hpa_min": 5, "deploy_hpa_max": 3}),
    Case("surge-0-unavailable-0", ("maxSurge 0 and maxUnavailable 0 are both 0", "Expected at least one of them above 0"),
         {"resource_apply_max_surge": 0, "resource_apply_max_unavailable": 0}),
    Case("cpu-limit-below-request", ("resources.limits.cpu '100m' below resources.requests.cpu '500m'",
                                     "Expected the limit at or above the request"),
         {"resource_apply_resources": RESOURCES_CPU_BELOW}),
    Case("memory-limit-below-request", ("resources.limits.memory '512Mi' below resources.requests.memory '1Gi'",),
         {"resource_apply_resources": RESOURCES_MEMORY_BELOW}),
    Case("pdb-blocks-every-eviction", ("spec.minAvailable '100%'", "blocks every eviction"),
         {"deploy_pdb_min_available": "100%"}),
    # --- names and the image
    Case("image-malformed", ("resource_apply_image must be set and be an image reference", "inventory rollout_image",
                             "found 'not an image!'"), {"rollout_image": "not an image!"}),
    Case("namespace-bad", (DNS_LABEL, "namespace 'Vextrus_Local' (inventory deploy_namespace"),
         {"deploy_namespace": "Vextrus_Local"}),
    Case("service-bad", (DNS_LABEL, "service 'finance_service' (inventory deploy_service_name"),
         {"deploy_service_name": "finance_service"}),
    # --- the run's settings
    Case("action-unknown", ("expected rollout_action week, abort or rollback", "found 'deploy'"), {"rollout_action": "deploy"}),
    Case("gate-timeout-negative", ("rollout_gate_timeout a whole number of seconds above 0", "found '-5'"),
         {"rollout_gate_timeout": -5}),
    Case("max-restarts-negative", ("rollout_max_restarts and rollout_unschedulable_grace whole numbers", "found '-1'"),
         {"rollout_max_restarts": -1}),
    Case("force-not-a-boolean", ("rollout_force true or false", "found 'perhaps'"), {"rollout_force": "perhaps"}),
    # --- the cluster and the registry the inventory names
    Case("cluster-uid-mismatch", ("Wrong cluster", "pins deploy_cluster_uid 00000000-0000-0000-0000-000000000000",
                                  "whose kube-system UID is", "kubectl get namespace kube-system"),
         {"deploy_cluster_uid": "00000000-0000-0000-0000-000000000000"}),
    Case("cluster-uid-not-a-uid", ("deploy_cluster_uid, the UID of the target cluster's kube-system Namespace", "found 'prod-1'"),
         {"deploy_cluster_uid": "prod-1"}),
    Case("staging-cluster-uid-placeholder", ("deploy_cluster_uid", "a placeholder",
                                             "kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'"),
         inventory="staging"),
    Case("staging-registry-missing", ("The staging inventory", "expected deploy_registry", "found ''",
                                      "only the local environment falls back to 127.0.0.1:5000"),
         inventory="staging-without-registry"),
    # --- the secrets, from a vault-encrypted vars file
    Case("secret-missing", ("Missing required secret value(s): namespace_secrets_jwt_secret (inventory deploy_secret_jwt)",),
         inventory="vault", secrets={k: v for k, v in GOOD_SECRETS.items() if k != "vault_deploy_secret_jwt"}),
    Case("secret-empty", ("Missing required secret value(s): namespace_secrets_jwt_secret (inventory deploy_secret_jwt)",),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_jwt": ""}),
    Case("secret-integer", ("namespace_secrets_jwt_secret (inventory deploy_secret_jwt) is of type int, expected a string",),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_jwt": 123456789012345678901234567890123}),
    Case("secret-multi-line", ("namespace_secrets_database_url (inventory deploy_secret_database_url) has several lines",
                               "expected one line"),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_database_url": "postgresql://a:b@h/db\nsecond\n"}),
    Case("secret-list", ("(inventory deploy_secret_eventstore_url) is of type list, expected a string",),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_eventstore_url": ["esdb://a", "esdb://b"]}),
    Case("secret-dict", ("(inventory deploy_secret_jwt) is of type dict, expected a string",),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_jwt": {"value": "j" * 48}}),
    Case("secret-jwt-too-short", ("The JWT secret (namespace_secrets_jwt_secret / deploy_secret_jwt) is shorter than 32",),
         inventory="vault", secrets={**GOOD_SECRETS, "vault_deploy_secret_jwt": "short"}),
    Case("vault-password-wrong", ("The secret values could not be read (Decryption failed", "deploy_secret_jwt",
                                  "--vault-password-file"),
         inventory="vault", secrets=GOOD_SECRETS, vault_password="not-the-password"),
    # --- the kubeconfig and the credentials
    Case("kubeconfig-missing", ("The Kubernetes API does not answer", "missing.kubeconfig", "deploy_kubeconfig"),
         kubeconfig="missing"),
    Case("context-wrong", ("The Kubernetes API does not answer", "kube context no-such-context", "deploy_context"),
         {"deploy_context": "no-such-context"}),
    Case("api-unreachable", ("The Kubernetes API does not answer", "closed-port.kubeconfig", "Connection refused"),
         kubeconfig="closed-port"),
    Case("client-cert-foreign", ("The Kubernetes API does not answer", "foreign-client-cert.kubeconfig", "Unauthorized"),
         kubeconfig="foreign-client-cert"),
    Case("client-cert-expired", ("The Kubernetes API does not answer", "expired-client-cert.kubeconfig", "Unauthorized"),
         kubeconfig="expired-client-cert"),
    Case("server-ca-foreign", ("The Kubernetes API does not answer", "foreign-server-ca.kubeconfig", "CERTIFICATE_VERIFY_FAILED"),
         kubeconfig="foreign-server-ca"),
    Case("rbac-no-rights", ("Cannot check which cluster this is", "get namespaces/kube-system", "forbidden"),
         kubeconfig="no-rights"),
    Case("rbac-namespace-denied", ("may not do what the rollout needs in namespace", "Expected every rule to be allowed",
                                   "patch deployments (apps)"),
         kubeconfig="namespace-denied"),
    # --- the release record, read by the chain before the guard (week 2 promotes the record's candidate)
    Case("record-not-json", (f"ConfigMap {RECORD_NAME} key 'release.json' is not valid JSON",),
         week=2, record={"release.json": "{not json"}, ),
    Case("record-unknown-state", ("is not a release record (state must be one of", "found 'DONE'"),
         week=2, record=_record(state="DONE"), ),
    Case("record-wrong-types", ("'highest_week_passed' must be an integer of 0 or more, found 'one' (str)",
                                "'runs' must be a list of runs (mappings)", f"delete configmap {RECORD_NAME}"),
         week=2, record=_record(highest_week_passed="one", runs="week 1 PASS"), ),
    Case("record-flat-key-edited", ("the ConfigMap's key 'state' is 'PROMOTED' but 'release.json' says 'IN_PROGRESS'",),
         week=2, record=_record(flat_state="PROMOTED"), ),
    Case("record-failed-without-week", ("state FAILED needs 'failed_week', found null",),
         week=2, record=_record(state="FAILED"), ),
]


@dataclass
class Outcome:
    case: Case
    namespace: str
    run: Command
    # resourceVersions of the namespace's objects before and after, or None: the namespace was new
    before: dict[str, str] | None
    after: dict[str, str] | None
    namespace_exists_after: bool


def _versions(api: client.ApiClient, namespace: str) -> dict[str, str]:
    return {f"{kind}/{item.metadata.name}": item.metadata.resource_version
            for kind, read in NAMESPACED_LISTS.items() for item in read(api, namespace)}


def _vault_text(values: dict[str, Any]) -> str:
    return VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))]).encrypt(yaml.safe_dump(values)).decode()


def _inline_vault(values: dict[str, Any]) -> str:
    """The values as inline-encrypted strings (as the staging and production inventories keep them)."""
    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
    lines = []
    for name, value in values.items():
        encrypted = vault.encrypt(str(value)).decode()
        lines.append(f"{name}: !vault |\n" + "".join(f"  {line}\n" for line in encrypted.splitlines()))
    return "".join(lines)


class Workspace:
    """What the cases need beside the cluster: inventories, vault files and kubeconfigs in a temporary
    directory, one namespace with two service accounts of restricted rights."""

    def __init__(self, api: client.ApiClient, root: Path) -> None:
        self.api = api
        self.root = root
        self.admin = yaml.safe_load(KUBECONFIG.read_text())
        self.uid = client.CoreV1Api(api).read_namespace("kube-system").metadata.uid
        self.namespaces: list[str] = []
        self.cluster_objects: list[tuple[str, str]] = []
        self.rbac_namespace = ""
        self.kubeconfigs: dict[str, Path] = {}

    # --- namespaces
    def new_namespace(self, label: str, labels: dict[str, str] | None = None) -> str:
        name = unique_name(f"vx-bad-{label}"[:40])
        core = client.CoreV1Api(self.api)
        core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
        self.namespaces.append(name)
        # the controllers add the default ServiceAccount and the root CA ConfigMap: wait for both, so
        # that the objects compared before and after the run are all there
        for read in (lambda: core.read_namespaced_service_account("default", name),
                     lambda: core.read_namespaced_config_map("kube-root-ca.crt", name)):
            _wait(lambda read=read: exists(read), f"the default objects of namespace {name}")
        return name

    def record_namespace(self, case: Case) -> str:
        name = self.new_namespace(case.id)
        assert case.record is not None
        client.CoreV1Api(self.api).create_namespaced_config_map(
            name, {"metadata": {"name": RECORD_NAME, "labels": {"vextrus.io/record": "release"}}, "data": case.record})
        return name

    # --- kubeconfigs
    def _kubeconfig(self, name: str, *, server: str = "", ca: bytes | None = None, user: dict[str, Any] | None = None) -> Path:
        config = copy.deepcopy(self.admin)
        cluster = config["clusters"][0]["cluster"]
        if server:
            cluster["server"] = server
        if ca is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
        if user is not None:
            config["users"][0]["user"] = user
        path = self.root / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def make_kubeconfigs(self) -> None:
        self.kubeconfigs["missing"] = self.root / "missing.kubeconfig"
        with socket.socket() as sock:  # a port nothing listens on once the socket is closed
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.kubeconfigs["closed-port"] = self._kubeconfig("closed-port", server=f"https://127.0.0.1:{port}")
        foreign_key, foreign_ca = _self_signed_ca("vextrus-test foreign CA")
        key, cert = _client_cert(foreign_key, foreign_ca, "vextrus-test-foreign", days=(-1, 1))
        self.kubeconfigs["foreign-client-cert"] = self._kubeconfig("foreign-client-cert", user=_cert_user(key, cert))
        cluster_key = serialization.load_pem_private_key((CLUSTER_PKI / "ca.key").read_bytes(), password=None)
        cluster_ca = x509.load_pem_x509_certificate((CLUSTER_PKI / "ca.crt").read_bytes())
        key, cert = _client_cert(cluster_key, cluster_ca, "vextrus-test-expired", days=(-3, -1))
        self.kubeconfigs["expired-client-cert"] = self._kubeconfig("expired-client-cert", user=_cert_user(key, cert))
        self.kubeconfigs["foreign-server-ca"] = self._kubeconfig(
            "foreign-server-ca", ca=foreign_ca.public_bytes(serialization.Encoding.PEM))

    def make_restricted_credentials(self) -> None:
        """Two service accounts of one namespace: one without any right, one that may read the
        kube-system Namespace (the cluster check) and nothing in its namespace."""
        self.rbac_namespace = self.new_namespace("rbac")
        core = client.CoreV1Api(self.api)
        rbac = client.RbacAuthorizationV1Api(self.api)
        role = unique_name("vx-bad-inputs-cluster-identity")
        rbac.create_cluster_role({"metadata": {"name": role}, "rules": [
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]}]})
        self.cluster_objects.append(("clusterrole", role))
        rbac.create_cluster_role_binding({"metadata": {"name": role}, "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "namespace-denied", "namespace": self.rbac_namespace}]})
        self.cluster_objects.append(("clusterrolebinding", role))
        for account in ("no-rights", "namespace-denied"):
            core.create_namespaced_service_account(self.rbac_namespace, {"metadata": {"name": account}})
            token = core.create_namespaced_service_account_token(
                account, self.rbac_namespace,
                client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=1800)),
            ).status.token
            self.kubeconfigs[account] = self._kubeconfig(account, user={"token": token})

    # --- inventories
    def staging_without_registry(self) -> Path:
        inventory = self.root / "staging-without-registry"
        shutil.copytree(ROOT / "inventories" / "staging", inventory)
        profile = inventory / "group_vars" / "all" / "deploy.yml"
        text = profile.read_text()
        assert "\ndeploy_registry: " in text
        profile.write_text("\n".join(line for line in text.splitlines() if not line.startswith("deploy_registry:")) + "\n")
        return inventory

    def vault_inventory(self, case: Case) -> Path:
        """The local inventory's profile with the secrets of staging's layout: secrets.yml maps
        vault_deploy_secret_* to deploy_secret_*, vault.yml holds them vault-encrypted (inline strings
        for the wrong-password case, as the committed inventories keep them; else the whole file, so
        that numbers, lists and mappings stay what they are)."""
        inventory = self.root / f"inventory-{case.id}"
        (inventory / "group_vars" / "all").mkdir(parents=True)
        shutil.copy(INVENTORY / "hosts.yml", inventory / "hosts.yml")
        shutil.copy(INVENTORY / "group_vars" / "all" / "deploy.yml", inventory / "group_vars" / "all" / "deploy.yml")
        shutil.copy(ROOT / "inventories" / "staging" / "group_vars" / "all" / "secrets.yml",
                    inventory / "group_vars" / "all" / "secrets.yml")
        secrets = case.secrets or {}
        inline = case.vault_password != VAULT_PASSWORD
        (inventory / "group_vars" / "all" / "vault.yml").write_text(_inline_vault(secrets) if inline else _vault_text(secrets))
        # beside the inventory, not in it: every file of an inventory directory is read as inventory
        password = self.root / f"vault-password-{case.id}"
        password.write_text(case.vault_password + "\n")
        password.chmod(0o600)
        return inventory

    def cleanup(self) -> None:
        for name in self.namespaces:
            delete_namespace(self.api, name)
        rbac = client.RbacAuthorizationV1Api(self.api)
        for kind, name in self.cluster_objects:
            delete = rbac.delete_cluster_role if kind == "clusterrole" else rbac.delete_cluster_role_binding
            try:
                delete(name)
            except client.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise


def _wait(probe: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _self_signed_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return key, cert


def _client_cert(ca_key: Any, ca: x509.Certificate, user: str, days: tuple[int, int]) -> tuple[bytes, bytes]:
    """A client certificate for user signed by ca, valid from days[0] to days[1] relative to now."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days[0])).not_valid_after(now + datetime.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _cert_user(key: bytes, cert: bytes) -> dict[str, str]:
    return {"client-certificate-data": base64.b64encode(cert).decode(), "client-key-data": base64.b64encode(key).decode()}


def _run_case(space: Workspace, case: Case, vault_dir: Path) -> Outcome:
    reports = space.root / f"reports-{case.id}"
    reports.mkdir()
    existing = ""
    if case.record is not None:
        existing = space.record_namespace(case)
    elif case.kubeconfig in ("no-rights", "namespace-denied"):
        existing = space.rbac_namespace
    namespace = existing or case.extra.get("deploy_namespace") or unique_name(f"vx-bad-{case.id}"[:40])
    # week 1 deploys a digest that is never pulled (no build); later weeks promote the record's candidate
    extra = {**week_vars(namespace, reports, vault_dir), **({"rollout_image": IMAGE} if case.week == 1 else {}), **case.extra}
    env = ansible_env(path=[ROOT / ".local" / "bin"], K8S_AUTH_KUBECONFIG=str(KUBECONFIG))
    options: list[str] = []
    inventory = str(INVENTORY)
    if case.inventory == "staging":
        inventory = str(ROOT / "inventories" / "staging")
    elif case.inventory == "staging-without-registry":
        inventory = str(space.staging_without_registry())
        extra["deploy_cluster_uid"] = space.uid
    elif case.inventory == "vault":
        inventory = str(space.vault_inventory(case))
        extra.update(deploy_local_vault_file="", deploy_local_vault_password_file="", deploy_kubeconfig=str(KUBECONFIG))
        options += ["--vault-password-file", str(space.root / f"vault-password-{case.id}")]
    if case.inventory.startswith("staging"):
        # the non-local inventories take the connection from the environment
        for key in ("deploy_local_vault_file", "deploy_local_vault_password_file"):
            extra.pop(key)
    if case.kubeconfig:
        extra["deploy_kubeconfig"] = str(space.kubeconfigs[case.kubeconfig])
    before = _versions(space.api, existing) if existing else None
    run = ansible_playbook(inventory, str(ROOT / "playbooks" / f"week{case.week}.yml"), extra, *options, env=env, timeout=300)
    after = _versions(space.api, existing) if existing else None
    return Outcome(case, namespace, run, before, after, bool(existing) or _namespace_exists(space.api, namespace))


def _namespace_exists(api: client.ApiClient, namespace: str) -> bool:
    """Whether the namespace exists; a name the API server cannot hold (the bad-name cases) does not."""
    try:
        return exists(lambda: client.CoreV1Api(api).read_namespace(namespace))
    except client.exceptions.ApiException as exc:
        if exc.status in (400, 422):
            return False
        raise


@pytest.fixture(scope="module")
def outcomes(k8s_client: client.ApiClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every case run once, two at a time."""
    space = Workspace(k8s_client, tmp_path_factory.mktemp("bad-inputs"))
    vault_dir = tmp_path_factory.mktemp("bad-inputs-vault")
    try:
        space.make_kubeconfigs()
        space.make_restricted_credentials()
        # the slowest first (a record is read after the whole preflight; credentials fail after retries)
        order = sorted(CASES, key=lambda c: (c.record is None, not c.kubeconfig))
        # the first case alone: it passes the preflight's secrets check, so it makes the local vault the
        # others share (two first runs at once would each make one)
        first = _run_case(space, order[0], vault_dir)
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            done = {outcome.case.id: outcome for outcome in pool.map(lambda c: _run_case(space, c, vault_dir), order[1:])}
        yield {first.case.id: first, **done}
    finally:
        space.cleanup()


def test_the_table_is_large_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_fails_clearly_and_writes_nothing(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.id]
    run = outcome.run
    assert run.rc == 4, run.tail()
    for text in case.says:
        assert text in run.flat, f"{text!r} not in the output:\n{run.tail()}"
    last = run.last_lines(40)
    if case.record is None:
        assert "Preflight ERROR:" in last, run.tail()
    else:
        assert f"Week {case.week} ERROR:" in last and "Cause: config. Nothing was written." in last, run.tail()
    if outcome.before is None:
        # the namespace would have been created by the first write; its absence means no write at all
        assert not outcome.namespace_exists_after, f"namespace {outcome.namespace} was created:\n{run.tail()}"
    else:
        assert outcome.after == outcome.before, f"objects of {outcome.namespace} changed:\n{run.tail()}"
