// Package tests checks deploy/: kustomize manifests, the Bitnami values
// override, the Grafana dashboard and the PrometheusRule.
package tests
