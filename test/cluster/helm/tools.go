//go:build tools

// Package helm pins the Helm release whose `helm` binary the chart tests run (helm lint, helm
// template). scripts/test-tools.sh builds it with `go build`; nothing here is compiled into
// fleet-rollout.
package helm

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
