package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// deployDir is deploy/, found from this file so the tests run from any
// working directory.
func deployDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(file))
}

// kinds maps each kind the manifests may contain to its apiVersion and a
// constructor of its Go type. A kind not listed here fails the test: a new
// kind needs its type (and its invariants) here first.
var kinds = map[string]struct {
	apiVersion string
	newObject  func() any
}{
	"StatefulSet":         {"apps/v1", func() any { return &appsv1.StatefulSet{} }},
	"Service":             {"v1", func() any { return &corev1.Service{} }},
	"ConfigMap":           {"v1", func() any { return &corev1.ConfigMap{} }},
	"Secret":              {"v1", func() any { return &corev1.Secret{} }},
	"PodDisruptionBudget": {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"NetworkPolicy":       {"networking.k8s.io/v1", func() any { return &networkingv1.NetworkPolicy{} }},
	"ServiceMonitor":      {"monitoring.coreos.com/v1", func() any { return &monitoringv1.ServiceMonitor{} }},
	"PrometheusRule":      {"monitoring.coreos.com/v1", func() any { return &monitoringv1.PrometheusRule{} }},
}

// manifests is one rendered kustomization, every object decoded into its
// Kubernetes API type.
type manifests struct {
	statefulSets    []*appsv1.StatefulSet
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	namespaces      map[string]string // "Kind/name" -> namespace
}

// render builds the kustomization in dir with the kustomize Go API (as
// `kubectl kustomize` does) and decodes every object strictly: an unknown
// or duplicated field, a kind without a type, or a wrong apiVersion is an
// error.
func render(t testing.TB, dir string) *manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := &manifests{namespaces: map[string]string{}}
	for _, r := range resMap.Resources() {
		kind, name := r.GetKind(), r.GetName()
		id := kind + "/" + name
		known, ok := kinds[kind]
		if !ok {
			t.Errorf("%s: kind %s has no Go type in this test", dir, id)
			continue
		}
		if got := r.GetApiVersion(); got != known.apiVersion {
			t.Errorf("%s: %s has apiVersion %q, want %q", dir, id, got, known.apiVersion)
		}
		y, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s as YAML: %v", dir, id, err)
		}
		obj := known.newObject()
		if err := yaml.UnmarshalStrict(y, obj); err != nil {
			t.Errorf("%s: %s does not decode strictly into %T: %v\n%s", dir, id, obj, err, y)
			continue
		}
		m.namespaces[id] = r.GetNamespace()
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			m.statefulSets = append(m.statefulSets, o)
		case *corev1.Service:
			m.services = append(m.services, o)
		case *corev1.ConfigMap:
			m.configMaps = append(m.configMaps, o)
		case *corev1.Secret:
			m.secrets = append(m.secrets, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *networkingv1.NetworkPolicy:
			m.networkPolicies = append(m.networkPolicies, o)
		case *monitoringv1.ServiceMonitor:
			m.serviceMonitors = append(m.serviceMonitors, o)
		case *monitoringv1.PrometheusRule:
			m.rules = append(m.rules, o)
		default:
			t.Fatalf("%s: %s decoded into unhandled %T", dir, id, obj)
		}
	}
	return m
}

// named returns the one object of objs whose name is name.
func named[T interface{ GetName() string }](t testing.TB, objs []T, name string) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if o.GetName() == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want exactly one %T named %q, found %d", zero, name, len(found))
	}
	return found[0]
}

// copyTree copies the directory src to dst (files and directories only).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}
