#!/usr/bin/env bash
# Builds the local cluster's binaries from the Go module proxy into $CACHE/<k8s version>/bin:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy
#   (module localcluster/src), kwok (module localcluster/kwok), and the tools of the traffic analysis
#   (module localcluster/tools): vegeta (load) and metrics-server; and Prometheus (module
#   localcluster/prometheus: Debian's build leaves out the Kubernetes service discovery).
# A build runs only when a binary is missing or an input changed (go.mod, go.sum, flags, Go
# version); otherwise this script returns at once. The first build takes a long while (it
# compiles Kubernetes); a progress line is printed every ~15 s.
# Finally links the binaries into .local/bin so that `PATH=.local/bin:$PATH` finds kubectl.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || die "Go is required (go1.24 or newer on PATH)"
PROGRESS_INTERVAL="${PROGRESS_INTERVAL:-15}"

K8S_LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$K8S_MAJOR -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean"
done
K8S_TARGETS=(./cmd/etcd k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet
  k8s.io/kubernetes/cmd/kube-proxy)
K8S_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
KWOK_LDFLAGS="-s -w"
KWOK_TARGETS=(sigs.k8s.io/kwok/cmd/kwok)
KWOK_BINARIES=(kwok)
TOOLS_LDFLAGS="-s -w -X main.Version=$VEGETA_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
TOOLS_TARGETS=(github.com/tsenart/vegeta/v12 sigs.k8s.io/metrics-server/cmd/metrics-server)
TOOLS_BINARIES=(vegeta metrics-server)
PROMETHEUS_LDFLAGS="-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v} -X github.com/prometheus/common/version.Branch=release"
PROMETHEUS_TARGETS=(github.com/prometheus/prometheus/cmd/prometheus)
PROMETHEUS_BINARIES=(prometheus)

# stamp MODULE_DIR LDFLAGS TARGETS...: identifies the inputs of one build.
stamp() {
  local dir=$1 ldflags=$2; shift 2
  {
    go version
    printf 'GOFLAGS=%s CGO_ENABLED=%s\n' "$GOFLAGS" "$(go env CGO_ENABLED)"
    printf 'ldflags=%s\ntargets=%s\n' "$ldflags" "$*"
    cat "$dir/go.mod" "$dir/go.sum"
  } | sha256sum | cut -d' ' -f1
}

# up_to_date STAMPFILE STAMP BINARIES...
up_to_date() {
  local file=$1 want=$2 b; shift 2
  [[ -r $file && $(<"$file") == "$want" ]] || return 1
  for b in "$@"; do [[ -x $BIN/$b ]] || return 1; done
}

# build NAME MODULE_DIR LDFLAGS STAMPFILE TARGETS...
build() {
  local name=$1 dir=$2 ldflags=$3 stampfile=$4; shift 4
  local want start buildlog pid n rc total mods
  want=$(stamp "$dir" "$ldflags" "$@")
  start=$(now_ms)
  buildlog="$CACHE/build-$name.log"
  log "building $name ($*) into $BIN"
  # -v names each package as it is compiled; cached packages are not listed.
  (cd "$dir" && exec go build -v -ldflags "$ldflags" -o "$BIN/" "$@") >"$buildlog" 2>&1 &
  pid=$!
  # the size of the dependency graph, for the progress line (computed beside the build)
  (cd "$dir" && go list -deps "$@" 2>/dev/null | wc -l >"$buildlog.total") &
  while kill -0 "$pid" 2>/dev/null; do
    for (( n = 0; n < PROGRESS_INTERVAL * 2; n++ )); do
      kill -0 "$pid" 2>/dev/null || break 2
      sleep 0.5
    done
    n=$(grep -cv -e '^#' -e '^go: ' "$buildlog" || true)
    total=$(cat "$buildlog.total" 2>/dev/null || true)
    mods=$(find "$GOMODCACHE/cache/download" -name '*.zip' 2>/dev/null | wc -l)
    log "  ... $name: $(elapsed_since "$start") elapsed; $n of ${total:-?} packages compiled (others cached or pending); $mods modules in the module cache; log: $buildlog"
  done
  rc=0; wait "$pid" || rc=$?
  wait || true
  rm -f "$buildlog.total"
  if (( rc != 0 )); then
    grep -v '^[a-zA-Z0-9._/-]*$' "$buildlog" | tail -n 40 >&2 || true
    die "building $name failed (exit $rc); full log: $buildlog"
  fi
  printf '%s\n' "$want" >"$stampfile"
  log "built $name in $(elapsed_since "$start")"
}

mkdir -p "$BIN" "$LOCAL_BIN"
exec 9>"$CACHE/build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/build.lock; waiting for it"
  flock 9
fi

# build_stale NAME WHAT MODULE_DIR LDFLAGS BINARIES_ARRAY TARGETS...: builds NAME unless its stamp says
# its binaries (an array passed by name) are up to date.
build_stale() {
  local name=$1 what=$2 dir=$3 ldflags=$4 want
  local -n binaries=$5
  shift 5
  want=$(stamp "$dir" "$ldflags" "$@")
  if up_to_date "$BIN/.stamp-$name" "$want" "${binaries[@]}"; then
    log "$what: up to date"
  else
    build "$name" "$dir" "$ldflags" "$BIN/.stamp-$name" "$@"
  fi
}

build_stale kubernetes "kubernetes $K8S_VERSION + etcd $ETCD_VERSION" "$LC_DIR/src" "$K8S_LDFLAGS" K8S_BINARIES "${K8S_TARGETS[@]}"
build_stale kwok "kwok $KWOK_VERSION" "$LC_DIR/kwok" "$KWOK_LDFLAGS" KWOK_BINARIES "${KWOK_TARGETS[@]}"
build_stale tools "vegeta $VEGETA_VERSION, metrics-server $METRICS_SERVER_VERSION" "$LC_DIR/tools" "$TOOLS_LDFLAGS" \
  TOOLS_BINARIES "${TOOLS_TARGETS[@]}"
build_stale prometheus "prometheus $PROMETHEUS_VERSION" "$LC_DIR/prometheus" "$PROMETHEUS_LDFLAGS" \
  PROMETHEUS_BINARIES "${PROMETHEUS_TARGETS[@]}"

for b in "${K8S_BINARIES[@]}" "${KWOK_BINARIES[@]}" "${TOOLS_BINARIES[@]}" "${PROMETHEUS_BINARIES[@]}"; do
  [[ $(readlink "$LOCAL_BIN/$b" 2>/dev/null) == "$BIN/$b" ]] || ln -sfn "$BIN/$b" "$LOCAL_BIN/$b"
done
