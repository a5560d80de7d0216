#!/usr/bin/env bash
# Creates the local cluster's PKI and kubeconfigs with openssl, once; later runs keep them
# (a certificate is only re-issued when it is missing, no longer signed by its CA, or expires
# within 30 days).
#
#   ca            cluster CA: client certificates, serving certificates, kubelet CSRs (cluster-signing)
#   etcd-ca       a separate CA for etcd, so that no cluster client certificate is accepted by etcd
#   etcd-server   etcd serving + peer certificate (127.0.0.1, localhost)
#   apiserver-etcd-client          kube-apiserver -> etcd
#   apiserver                      kube-apiserver serving (127.0.0.1, localhost, kubernetes.default..., 10.96.0.1)
#   apiserver-kubelet-client       kube-apiserver -> kubelet (for a real node; bound to system:kubelet-api-admin)
#   kube-controller-manager(-serving), kube-scheduler(-serving), kwok, admin (O=system:masters)
#   sa.key / sa.pub                service-account token signing key pair
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v openssl >/dev/null || die "openssl is required"
KUBECONFIG_DIR="$STATE/kubeconfigs"
mkdir -p "$PKI_DIR" "$KUBECONFIG_DIR"
chmod 700 "$PKI_DIR"
umask 077
changed=0
# shellcheck source=lib/certs.sh
source "$LC_DIR/lib/certs.sh"

# cert NAME CA_NAME SUBJECT USAGES [SANS]: a certificate in $PKI_DIR signed by one of its CAs.
cert() { cert_issue "$PKI_DIR" "$1" "$PKI_DIR/$2" "${@:3}"; }

# kubeconfig FILE USER CERT_NAME: writes the file only when its content changes.
kubeconfig() {
  local file=$1 user=$2 name=$3 content
  content=$(cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: $CONTEXT_NAME
  context:
    cluster: $CLUSTER_NAME
    user: $user
current-context: $CONTEXT_NAME
preferences: {}
EOF
)
  if [[ ! -f $file || $(<"$file") != "$content" ]]; then
    printf '%s\n' "$content" >"$file"
    log "wrote ${file#"$ROOT/"}"
  fi
}

cert_ca "$PKI_DIR" ca "vextrus-local-ca"
cert_ca "$PKI_DIR" etcd-ca "vextrus-local-etcd-ca"

LOOPBACK="IP:$LISTEN_IP,DNS:localhost"
cert etcd-server etcd-ca "/CN=etcd" "serverAuth,clientAuth" "$LOOPBACK"
cert apiserver-etcd-client etcd-ca "/CN=kube-apiserver-etcd-client" "clientAuth"
cert apiserver ca "/CN=kube-apiserver" "serverAuth" \
  "$LOOPBACK,IP:$SERVICE_FIRST_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client ca "/CN=kube-apiserver-kubelet-client" "clientAuth"
cert admin ca "/O=system:masters/CN=vextrus-admin" "clientAuth"
cert kube-controller-manager ca "/CN=system:kube-controller-manager" "clientAuth"
cert kube-controller-manager-serving ca "/CN=kube-controller-manager" "serverAuth" "$LOOPBACK"
cert kube-scheduler ca "/CN=system:kube-scheduler" "clientAuth"
cert kube-scheduler-serving ca "/CN=kube-scheduler" "serverAuth" "$LOOPBACK"
# kwok gets its own identity with exactly the rights it needs (ClusterRole vextrus:kwok-controller,
# see config/bootstrap.yaml) rather than system:masters: it only patches node/pod status, renews
# node leases, deletes terminating pods and records events.
cert kwok ca "/CN=vextrus:kwok-controller" "clientAuth"
# The traffic analysis' observers (metrics/rbac.yaml): Prometheus reads pods to discover them;
# metrics-server reads nodes, pods and the kubelets' metrics, and serves metrics.k8s.io to the API server.
cert prometheus ca "/CN=vextrus:prometheus" "clientAuth"
cert metrics-server ca "/CN=vextrus:metrics-server" "clientAuth"
cert metrics-server-serving ca "/CN=metrics-server" "serverAuth" "$LOOPBACK${HOST_IP:+,IP:$HOST_IP},DNS:metrics-server.kube-system.svc"
# The aggregation layer: the API server proxies metrics.k8s.io to metrics-server as front-proxy-client,
# a certificate of its own CA (metrics-server trusts the user names in its request headers only from it).
cert_ca "$PKI_DIR" front-proxy-ca "vextrus-local-front-proxy-ca"
cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" "clientAuth"

if [[ ! -s $PKI_DIR/sa.key || ! -s $PKI_DIR/sa.pub ]]; then
  log "creating the service-account signing key pair"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI_DIR/sa.key" 2>/dev/null
  openssl pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub"
  changed=1
fi

kubeconfig "$KUBECONFIG_DIR/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
kubeconfig "$KUBECONFIG_DIR/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
kubeconfig "$KUBECONFIG_DIR/kwok.kubeconfig" vextrus:kwok-controller kwok
kubeconfig "$KUBECONFIG_DIR/metrics-server.kubeconfig" vextrus:metrics-server metrics-server
mkdir -p "$LOCAL"
kubeconfig "$ADMIN_KUBECONFIG" vextrus-admin admin

(( changed || CERTS_ISSUED )) && log "PKI ready in ${PKI_DIR#"$ROOT/"}"
exit 0
