#!/usr/bin/env bash
# Starts what the traffic analysis observes with, beside the running control plane:
#   prometheus      built from the Go module proxy (localcluster/prometheus: Debian's package has no
#                   Kubernetes discovery), on 127.0.0.1:9090; discovers pods through the API server with its own
#                   client certificate (user vextrus:prometheus, may only read pods) and scrapes those on the
#                   real node that announce it; loads the rule files in .local/cluster/prometheus/rules
#                   (the chain writes the service's alert rules there); POST /-/reload reads them again.
#   metrics-server  built from the Go module proxy (localcluster/tools), on the host's address; registered
#                   as the APIService v1beta1.metrics.k8s.io, so `kubectl top pods` and the HPA see the real
#                   node's pods (the simulated nodes have no kubelet to ask).
# vegeta (the load generator) is built with them and needs no daemon.
#
# Idempotent: a running component is left alone. Run after localcluster/up.sh; down.sh stops them.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

METRICS_DIR="$LC_DIR/metrics"
REAL_NODE="${REAL_NODE_NAME:-real-node-0}"
SCRAPE_INTERVAL="${PROMETHEUS_SCRAPE_INTERVAL:-2s}"
START=$(now_ms)

url_ok "$APISERVER_URL/readyz" || die "the API server at $APISERVER_URL does not answer /readyz; run localcluster/up.sh first"
for b in prometheus metrics-server vegeta; do
  [[ -x $BIN/$b ]] || die "missing $BIN/$b; run localcluster/build.sh"
done
PROMETHEUS="$BIN/prometheus"

kubectl_admin apply -f "$METRICS_DIR/rbac.yaml" >/dev/null

# --- Prometheus: the configuration is rendered each time; a changed one is loaded with a reload
mkdir -p "$PROMETHEUS_STATE/data" "$PROMETHEUS_RULES_DIR"
config=$(sed -e "s|@SCRAPE_INTERVAL@|$SCRAPE_INTERVAL|g" -e "s|@RULES_DIR@|$PROMETHEUS_RULES_DIR|g" \
  -e "s|@APISERVER_URL@|$APISERVER_URL|g" -e "s|@CA_FILE@|$PKI_DIR/ca.crt|g" \
  -e "s|@CERT_FILE@|$PKI_DIR/prometheus.crt|g" -e "s|@KEY_FILE@|$PKI_DIR/prometheus.key|g" \
  -e "s|@REAL_NODE@|$REAL_NODE|g" "$METRICS_DIR/prometheus.yml.in")
if [[ ! -f $PROMETHEUS_STATE/prometheus.yml || $(<"$PROMETHEUS_STATE/prometheus.yml") != "$config" ]]; then
  printf '%s\n' "$config" >"$PROMETHEUS_STATE/prometheus.yml"
  if daemon_running prometheus "$PROMETHEUS"; then
    curl -fsS -X POST "$PROMETHEUS_URL/-/reload" >/dev/null || daemon_fail prometheus "Prometheus refused the new configuration"
  fi
fi
if ! daemon_running prometheus "$PROMETHEUS"; then
  # rule files of an earlier cluster name namespaces that no longer exist
  rm -f "$PROMETHEUS_RULES_DIR"/*.yml
  daemon_start prometheus "$PROMETHEUS" \
    --config.file="$PROMETHEUS_STATE/prometheus.yml" \
    --storage.tsdb.path="$PROMETHEUS_STATE/data" \
    --storage.tsdb.retention.time=6h \
    --web.listen-address="$LISTEN_IP:$PROMETHEUS_PORT" \
    --web.enable-lifecycle \
    --log.level=warn
fi
daemon_wait "Prometheus /-/ready" 60 prometheus "$PROMETHEUS" curl -fsS --max-time 2 "$PROMETHEUS_URL/-/ready"

# --- metrics-server on the host's address, behind the APIService
[[ -n $HOST_IP ]] || die "no address of this host besides loopback: the API server could not reach metrics-server"
MS_KUBECONFIG="$STATE/kubeconfigs/metrics-server.kubeconfig"
daemon_start metrics-server "$BIN/metrics-server" \
  --kubeconfig="$MS_KUBECONFIG" \
  --authentication-kubeconfig="$MS_KUBECONFIG" \
  --authorization-kubeconfig="$MS_KUBECONFIG" \
  --bind-address="$HOST_IP" --secure-port="$METRICS_SERVER_PORT" \
  --tls-cert-file="$PKI_DIR/metrics-server-serving.crt" --tls-private-key-file="$PKI_DIR/metrics-server-serving.key" \
  --kubelet-preferred-address-types=InternalIP \
  --kubelet-certificate-authority="$PKI_DIR/ca.crt" \
  --kubelet-client-certificate="$PKI_DIR/metrics-server.crt" --kubelet-client-key="$PKI_DIR/metrics-server.key" \
  --node-selector="vextrus.io/node=real" \
  --metric-resolution=15s
daemon_wait "metrics-server /readyz" 60 metrics-server "$BIN/metrics-server" \
  curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" "https://$HOST_IP:$METRICS_SERVER_PORT/livez"

kubectl_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/managed-by: localcluster}
spec:
  ports:
  - {name: https, port: 443, targetPort: $METRICS_SERVER_PORT, protocol: TCP}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: metrics-server
  namespace: kube-system
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/managed-by: localcluster}
subsets:
- addresses: [{ip: $HOST_IP}]
  ports: [{name: https, port: $METRICS_SERVER_PORT, protocol: TCP}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/managed-by: localcluster}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  caBundle: $(base64 -w0 "$PKI_DIR/ca.crt")
  service: {name: metrics-server, namespace: kube-system, port: 443}
YAML
wait_until 60 sh -c "'$BIN/kubectl' --kubeconfig '$ADMIN_KUBECONFIG' get apiservice v1beta1.metrics.k8s.io \
  -o jsonpath='{.status.conditions[?(@.type==\"Available\")].status}' | grep -qx True" ||
  daemon_fail metrics-server "the APIService v1beta1.metrics.k8s.io is not Available after 60s: $(kubectl_admin get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[0].message}' 2>&1)"

log "prometheus ($PROMETHEUS_URL) and metrics-server (v1beta1.metrics.k8s.io) up in $(elapsed_since "$START")"
