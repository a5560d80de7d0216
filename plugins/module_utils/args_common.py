# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of the collection's modules, paired with the doc fragments of the same names."""

from __future__ import annotations

import copy

from ansible_collections.vextrus.deploy.plugins.module_utils.analysis import DEFAULT_LABELS, DEFAULT_SERVICE_METRICS
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8S_CONNECTION_ARG_SPEC

# vextrus.deploy.rollout_gate_options (+ kubernetes.core.k8s_auth_options)
ROLLOUT_GATE_ARG_SPEC = {
    "namespace": {"type": "str", "required": True},
    "deployments": {"type": "list", "elements": "str", "required": True},
    "allow_missing": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 300},
    "max_restarts": {"type": "int", "default": 1},
    "log_lines": {"type": "int", "default": 20},
    "unschedulable_grace": {"type": "int", "default": 60},
    "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
}

# access_review's own options (+ kubernetes.core.k8s_auth_options)
ACCESS_REVIEW_ARG_SPEC = {
    "namespace": {"type": "str", "required": True},
    "extra_rules": {"type": "list", "elements": "dict", "default": []},
    "lease": {"type": "str"},
}

# vextrus.deploy.health_gate_options; port_forward carries the kubernetes.core auth options
PORT_FORWARD_ARG_SPEC = {
    "namespace": {"type": "str", "required": True},
    "service": {"type": "str"},
    "pod": {"type": "str"},
    "port": {"type": "int", "required": True},
    **copy.deepcopy(K8S_CONNECTION_ARG_SPEC),
}

# vextrus.deploy.health_gate_options.probe: what health_gate and smoke_checks share
PROBE_ARG_SPEC = {
    "successes": {"type": "int", "default": 3},
    "interval": {"type": "float", "default": 1.0},
    "timeout": {"type": "float", "default": 60.0},
    "request_timeout": {"type": "float", "default": 5.0},
    "bearer_token": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "default": True},
    "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
    "port_forward": {
        "type": "dict",
        "options": PORT_FORWARD_ARG_SPEC,
        "mutually_exclusive": [("service", "pod")],
        "required_one_of": [("service", "pod")],
    },
}

# vextrus.deploy.health_gate_options (+ .probe)
HEALTH_GATE_ARG_SPEC = {
    "urls": {"type": "list", "elements": "str", "required": True},
    "expected_status": {"type": "list", "elements": "int", "default": [200]},
    "json_match": {"type": "dict"},
    **PROBE_ARG_SPEC,
}

# vextrus.deploy.bearer_token_secret: a token minted from a Secret's key (smoke_checks, analysis_gate)
BEARER_TOKEN_SECRET_ARG_SPEC = {
    "type": "dict",
    "no_log": False,  # names the Secret and its key; the module reads the key itself
    "options": {
        "namespace": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "key": {"type": "str", "required": True, "no_log": False},
        "claims": {"type": "dict", "required": True},
        "ttl": {"type": "int", "default": 300},
        "kubeconfig": copy.deepcopy(K8S_CONNECTION_ARG_SPEC["kubeconfig"]),
        "context": copy.deepcopy(K8S_CONNECTION_ARG_SPEC["context"]),
    },
}

# smoke_checks' own options (+ vextrus.deploy.health_gate_options.probe)
SMOKE_CHECKS_ARG_SPEC = {
    "checks": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "expected_status": {"type": "list", "elements": "int", "default": [200]},
            "json_match": {"type": "dict"},
            "successes": {"type": "int"},
            "authenticated": {"type": "bool", "default": False},
        },
    },
    "bearer_token_secret": BEARER_TOKEN_SECRET_ARG_SPEC,
    **PROBE_ARG_SPEC,
}


def rollout_gate_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(ROLLOUT_GATE_ARG_SPEC)}


def access_review_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(ACCESS_REVIEW_ARG_SPEC)}


def health_gate_argspec() -> dict:
    return copy.deepcopy(HEALTH_GATE_ARG_SPEC)


def smoke_checks_argspec() -> dict:
    return copy.deepcopy(SMOKE_CHECKS_ARG_SPEC)


# run_lease's own options (+ kubernetes.core.k8s_auth_options)
RUN_LEASE_ARG_SPEC = {
    "namespace": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "holder": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "renewing", "absent"], "default": "present"},
    "ttl": {"type": "int", "default": 300},
    "create_namespace": {"type": "bool", "default": False},
    "renew_in_background": {"type": "bool", "default": False},
    "interval": {"type": "float"},
    "renew_for": {"type": "int", "default": 7200},
    "watch_pid": {"type": "int"},
}


def run_lease_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(RUN_LEASE_ARG_SPEC)}


# read_objects' own options (+ kubernetes.core.k8s_auth_options)
READ_OBJECTS_ARG_SPEC = {
    "namespace": {"type": "str"},
    "objects": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "api_version": {"type": "str", "required": True, "aliases": ["apiVersion"]},
            "kind": {"type": "str", "required": True},
            "name": {"type": "str"},
            "namespace": {"type": "str"},
            "plural": {"type": "str"},
            "ignore_forbidden": {"type": "bool", "default": False},
        },
    },
    "secret_values": {"type": "bool", "default": True},
    "server_version": {"type": "bool", "default": False},
}


def read_objects_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(READ_OBJECTS_ARG_SPEC)}


# write_objects' own options (+ kubernetes.core.k8s_auth_options)
WRITE_OBJECTS_ARG_SPEC = {
    "objects": {"type": "list", "elements": "dict", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "field_manager": {"type": "str", "default": "vextrus-deploy"},
    "force_conflicts": {"type": "bool", "default": True},
}


def write_objects_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(WRITE_OBJECTS_ARG_SPEC)}


# track_replicas' own options (+ kubernetes.core.k8s_auth_options)
TRACK_REPLICAS_ARG_SPEC = {
    "namespace": {"type": "str", "required": True},
    "plan": {"type": "dict", "required": True},
    "counts": {"type": "bool", "default": True},
    "take_over_from": {"type": "str", "default": ""},
    "field_manager": {"type": "str", "default": "vextrus-deploy-replicas"},
}


def track_replicas_argspec() -> dict:
    return {**copy.deepcopy(K8S_CONNECTION_ARG_SPEC), **copy.deepcopy(TRACK_REPLICAS_ARG_SPEC)}


# analysis_gate's options (documented in the module)
ANALYSIS_CHECK_OPTIONS = {
    "name": {"type": "str", "required": True},
    "query": {"type": "str", "required": True},
    "op": {"type": "str", "required": True, "choices": ["<=", "<", ">=", ">"]},
    "threshold": {"type": "float", "required": True},
    "baseline": {"type": "bool", "default": False},
    "max_delta": {"type": "float"},
    "max_factor": {"type": "float"},
    "factor_min_delta": {"type": "float", "default": 0.0},
    "reduce": {"type": "str", "default": "single", "choices": ["single", "sum", "max", "min", "count"]},
    "failure_limit": {"type": "int", "default": 0},
    "inconclusive_limit": {"type": "int", "default": 2},
    "inconclusive": {"type": "str", "choices": ["fail", "pass", "error"]},
    "unit": {"type": "str", "default": ""},
}

ANALYSIS_LOAD_OPTIONS = {
    "rate": {"type": "int", "default": 20},
    "targets": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "url": {"type": "str", "required": True},
            "method": {"type": "str", "default": "GET"},
            "headers": {"type": "dict", "default": {}, "no_log": True},
            "body": {"type": "str", "default": ""},
        },
    },
    "headers": {"type": "dict", "default": {}, "no_log": True},
    "timeout": {"type": "float", "default": 5.0},
    "warmup": {"type": "float", "default": 15.0},
    "vegeta": {"type": "str", "default": "vegeta"},
}

ANALYSIS_GATE_ARG_SPEC = {
    "prometheus_url": {"type": "str", "required": True},
    "prometheus_headers": {"type": "dict", "default": {}, "no_log": True},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "request_timeout": {"type": "float", "default": 10.0},
    "namespace": {"type": "str", "required": True},
    "service": {"type": "str", "required": True},
    "track": {"type": "str", "default": "canary"},
    "baseline_track": {"type": "str", "default": "stable"},
    # the names' defaults are the analysis' own (one place)
    "labels": {"type": "dict", "default": {}, "options": {k: {"type": "str", "default": v} for k, v in DEFAULT_LABELS.items()}},
    "service_metrics": {
        "type": "dict",
        "default": {},
        "options": {k: {"type": "str", "default": v} for k, v in DEFAULT_SERVICE_METRICS.items()},
    },
    "window": {"type": "str", "default": "1m"},
    "count": {"type": "int", "default": 6},
    "interval": {"type": "float", "default": 10.0},
    "initial_delay": {"type": "float", "default": 0.0},
    "error_limit": {"type": "int", "default": 1},
    "inconclusive_policy": {"type": "str", "default": "error", "choices": ["fail", "pass", "error"]},
    "builtin_checks": {
        "type": "list",
        "elements": "str",
        "default": ["success_rate", "latency_p99", "alerts"],
        "choices": ["success_rate", "latency_p99", "alerts"],
    },
    "success_rate_min": {"type": "float", "default": 0.99},
    "success_rate_max_drop": {"type": "float", "default": 0.01},
    "latency_p99_max": {"type": "float", "default": 0.5},
    "latency_p99_max_factor": {"type": "float", "default": 1.5},
    "latency_p99_factor_min_delta": {"type": "float", "default": 0.05},
    "checks": {"type": "list", "elements": "dict", "default": [], "options": ANALYSIS_CHECK_OPTIONS},
    "load": {"type": "dict", "options": ANALYSIS_LOAD_OPTIONS},
    "bearer_token_secret": BEARER_TOKEN_SECRET_ARG_SPEC,
}


def analysis_gate_argspec() -> dict:
    return copy.deepcopy(ANALYSIS_GATE_ARG_SPEC)
