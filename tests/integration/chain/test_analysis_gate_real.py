"""analysis_gate against a real Prometheus (Debian's binary) scraping the real pods of a week 1 on the
real node (/metrics of the example service, its stable and canary pods labelled by track), with
requests sent straight to the pods: a healthy canary passes with its figures; a latency threshold
below what the canary measures fails the run quoting the value and the query; no traffic is
inconclusive, an ERROR by default; Prometheus stopped is an ERROR."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from chainkit import REAL_NODE, SERVICE, live_pods, run_week
from playbookrun import ansible_env, ansible_playbook

HERE = Path(__file__).resolve().parent


@dataclass
class Scraped:
    namespace: str
    url: str
    process: subprocess.Popen
    pod_urls: dict[str, str]
    rules: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def scraped(week1_release: Any, k8s_client: client.ApiClient, chain_vault: Path, module_namespace: Any,
            tmp_path_factory: pytest.TempPathFactory, wait: Any) -> Iterator[Scraped]:
    """Week 1 of the session's image in a namespace of its own, and a Prometheus on 127.0.0.1 that
    scrapes its pods every second, labelled as a pod-discovering Prometheus relabels them."""
    prometheus = shutil.which("prometheus")
    if not prometheus:
        pytest.fail("prometheus is not installed: `make promtool` installs Debian's prometheus package")
    ns = module_namespace("analysis")
    run = run_week(1, ns, tmp_path_factory.mktemp("analysis-week1"), chain_vault, {**REAL_NODE, "rollout_image": week1_release.image})
    assert run.rc == 0 and run.report["verdict"] == "PASS", run.tail()
    pod_urls = {}
    for track in ("stable", "canary"):
        pods = [p for p in live_pods(k8s_client, ns, track) if p.status.pod_ip]
        assert pods, f"no {track} pod with an IP in {ns}"
        pod_urls[track] = f"http://{pods[0].status.pod_ip}:3014"
    work = tmp_path_factory.mktemp("prometheus")
    rules = work / "rules"
    rules.mkdir()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules / "*.yml")],
        "scrape_configs": [{
            "job_name": SERVICE,
            "metrics_path": "/metrics",
            "static_configs": [
                {"targets": [url.removeprefix("http://")], "labels": {"namespace": ns, "service": SERVICE, "track": track}}
                for track, url in pod_urls.items()
            ],
        }],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = (work / "prometheus.log").open("w")
    process = subprocess.Popen(
        [prometheus, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: _ready(f"{url}/-/ready"), timeout=60, message="Prometheus ready")
        yield Scraped(ns, url, process, pod_urls, rules)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Traffic:
    """Requests to the pods' API path (unauthenticated: 401, not a server error), about 20 a second
    to each track, until stopped."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for url in self.urls:
                try:
                    urllib.request.urlopen(f"{url}/api/v1/accounts", timeout=2).close()
                except urllib.error.HTTPError:
                    pass
                except (urllib.error.URLError, OSError):
                    continue
                self.sent += 1
            self._stop.wait(0.05)

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def analyse(scraped: Scraped, out: Path, **args: Any) -> dict[str, Any]:
    """The registered result of one analysis_gate task run by ansible-playbook."""
    settings = {"prometheus_url": scraped.url, "namespace": scraped.namespace, "service": SERVICE,
                "window": "10s", "count": 3, "interval": 2, **args}
    out.unlink(missing_ok=True)
    done = ansible_playbook("localhost,", str(HERE / "analysis_step.yml"), {"analysis_args": settings, "analysis_out": str(out)},
                            env=ansible_env(), timeout=300)
    assert done.rc == 0, done.tail()
    return json.loads(out.read_text())


def test_a_healthy_canary_under_traffic_passes_with_its_figures(scraped: Scraped, tmp_path: Path) -> None:
    with Traffic(list(scraped.pod_urls.values())) as traffic:
        time.sleep(12)  # the 10 s rate windows fill
        result = analyse(scraped, tmp_path / "analysis.json")
    assert traffic.sent > 100
    assert result["verdict"] == "PASS", result["msg"]
    checks = {check["name"]: check for check in result["checks"]}
    assert [checks[name]["phase"] for name in ("success_rate", "latency_p99", "alerts")] == ["successful"] * 3
    for measurement in checks["success_rate"]["measurements"]:
        assert measurement["value"] == 1.0 and measurement["baseline"] == 1.0, measurement
    for measurement in checks["latency_p99"]["measurements"]:
        assert 0 < measurement["value"] < 0.5 and 0 < measurement["baseline"] < 0.5, measurement
    assert 'track="canary"' in checks["success_rate"]["query"] and 'track="stable"' in checks["success_rate"]["baseline_query"]


def test_a_canary_slower_than_the_threshold_fails_quoting_value_and_query(scraped: Scraped, tmp_path: Path) -> None:
    with Traffic(list(scraped.pod_urls.values())):
        time.sleep(12)
        result = analyse(scraped, tmp_path / "analysis.json", latency_p99_max=0.000001)
    assert result["failed"] and result["verdict"] == "FAIL", result
    assert result["msg"].startswith("Analysis FAIL: check latency_p99 failed in 1 of 1 measurements (failure limit 0): ")
    assert "s is not <= 1e-06s; query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{" in result["msg"]
    assert result["stopped_early"] is True


def test_no_traffic_is_inconclusive_and_an_error(scraped: Scraped, tmp_path: Path) -> None:
    time.sleep(12)  # the windows hold no request any more
    result = analyse(scraped, tmp_path / "analysis.json")
    assert result["failed"] and result["verdict"] == "ERROR", result
    assert "check success_rate is inconclusive (3 of 3 measurements" in result["msg"]
    passed = analyse(scraped, tmp_path / "passed.json", inconclusive_policy="pass")
    assert passed["verdict"] == "PASS" and passed["inconclusive_passed"], passed


def _reload(scraped: Scraped) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{scraped.url}/-/reload", method="POST"), timeout=10).close()


def test_a_firing_alert_of_the_service_fails_the_analysis_naming_it(scraped: Scraped, tmp_path: Path, wait: Any) -> None:
    # an alert of this service (its namespace and service labels, as the service's own rules carry them) that
    # fires at once, and one of another namespace that must not count
    def alert(name: str, namespace: str) -> dict[str, Any]:
        return {"alert": name, "expr": "vector(1)", "labels": {"namespace": namespace, "service": SERVICE, "severity": "critical"}}

    rules = scraped.rules / "firing.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "test", "rules": [
        alert("FinanceServiceTestFiring", scraped.namespace), alert("OtherNamespaceFiring", "another-namespace")]}]}))
    _reload(scraped)
    try:
        firing = f'{scraped.url}/api/v1/query?query=ALERTS{{alertstate="firing",alertname="FinanceServiceTestFiring"}}'
        wait(lambda: json.load(urllib.request.urlopen(firing, timeout=5))["data"]["result"], timeout=30, message="the alert firing")
        with Traffic(list(scraped.pod_urls.values())):
            time.sleep(12)
            result = analyse(scraped, tmp_path / "analysis.json")
    finally:
        rules.unlink()
        _reload(scraped)
    assert result["failed"] and result["verdict"] == "FAIL", result
    assert "check alerts failed in 1 of 1 measurements (failure limit 0): 1 is not <= 0 (FinanceServiceTestFiring)" in result["msg"]
    assert "OtherNamespaceFiring" not in result["msg"]


def test_prometheus_stopped_is_an_error(scraped: Scraped, tmp_path: Path) -> None:
    scraped.process.terminate()
    scraped.process.wait(timeout=30)
    result = analyse(scraped, tmp_path / "analysis.json")
    assert result["failed"] and result["verdict"] == "ERROR", result
    assert f"could not be measured: {scraped.url} did not answer" in result["msg"]
