#!/usr/bin/env bash
# Everything the test tiers need on a fresh machine, each step skipped when already done:
# Debian's packages (a CNCF Distribution registry and skopeo for the webhook tests; the Python
# and Ruby Kubernetes clients for the fidelity corpus; prometheus and its promtool for the alert
# and dashboard tests; aiosmtpd, the SMTP server of the email notification tests; postgresql;
# python3-venv where the python3 on the PATH lacks it, for schemathesis),
# a Postgres server on 127.0.0.1:5432 (scripts/test-postgres.sh), and the Kubernetes control
# plane and kubectl versions (scripts/test-tools.sh). `npm test` runs it first; installing packages needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v skopeo >/dev/null || missing+=(skopeo)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || missing+=(python3-kubernetes)
ruby -e 'require "kubeclient"' 2>/dev/null || missing+=(ruby-kubeclient)
{ command -v prometheus && command -v promtool; } >/dev/null || missing+=(prometheus)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
# scripts/test-tools.sh installs schemathesis into a virtualenv of the python3 on the PATH.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-setup: needs Debian's ${missing[*]}: run as root, or install them" >&2
    exit 1
  fi
  echo "test-setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The registry package's own service would hold port 5000; the tests start their own registries.
# Likewise the prometheus package's service (port 9090): the tests start their own Prometheus.
for service in docker-registry prometheus; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

bash scripts/test-postgres.sh
bash scripts/test-tools.sh
