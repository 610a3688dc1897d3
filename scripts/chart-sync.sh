#!/usr/bin/env bash
# Copies into the Helm chart what it ships from the rest of the repository, which stays the one
# source: the CRDs that crds/kustomization.yaml lists (into charts/fleet-rollout/crds/, which Helm
# installs from; CRDs the list no longer names are removed) and the alert rules and Grafana
# dashboard of deploy/components/monitoring (into charts/fleet-rollout/files/). test/chart.test.ts
# fails until the copies are byte for byte the same.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/fleet-rollout
# The `resources:` list of crds/kustomization.yaml, one `  - file.yaml` a line.
listed=$(awk '/^resources:/ { on = 1; next } on && /^  - / { print $2; next } on && !/^  / { on = 0 }' crds/kustomization.yaml)
rm -f "$chart"/crds/*.yaml
for file in $listed; do cp "crds/$file" "$chart/crds/$file"; done
mkdir -p "$chart/files"
for file in fleet-rollout.rules.yaml grafana-dashboard.json; do
  cp "deploy/components/monitoring/$file" "$chart/files/$file"
done
echo "chart-sync: $(echo "$listed" | wc -l) CRDs, the alert rules and the dashboard copied into $chart" >&2
