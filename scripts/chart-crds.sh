#!/usr/bin/env bash
# Copies the CRDs that crds/kustomization.yaml lists into the Helm chart's crds/ folder, which Helm
# installs from, and removes any the list no longer names: crds/ stays the one source, and
# test/chart.test.ts fails until the chart's copies are byte for byte the same.
set -euo pipefail
cd "$(dirname "$0")/.."
target=charts/fleet-rollout/crds
# The `resources:` list of crds/kustomization.yaml, one `  - file.yaml` a line.
listed=$(awk '/^resources:/ { on = 1; next } on && /^  - / { print $2; next } on && !/^  / { on = 0 }' crds/kustomization.yaml)
rm -f "$target"/*.yaml
for file in $listed; do cp "crds/$file" "$target/$file"; done
echo "chart-crds: $(echo "$listed" | wc -l) CRDs copied into $target" >&2
