//go:build tools

// Package kubernetes pins the kube-apiserver of the oldest Kubernetes release fleet-rollout
// supports (1.30: CEL validation rules with reason, fieldPath and messageExpression are GA), on
// which the cluster tier proves the CRDs and their validation. scripts/test-tools.sh builds it.
package kubernetes

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
