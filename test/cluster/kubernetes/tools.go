//go:build tools

// Package kubernetes pins the programs of a real Kubernetes control plane that the cluster
// test tier runs: kube-apiserver, kube-controller-manager and kubectl from one Kubernetes release,
// and etcd at the version that release depends on. scripts/test-tools.sh builds them with
// `go build`; nothing here is compiled into fleet-rollout.
package kubernetes

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
