package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/x0tta6bl4/gosentinel/config"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// chartValues lists keys of the Bitnami redis chart's values.yaml
// (bitnami/charts, bitnami/redis/values.yaml at chart version 23.1.1,
// appVersion 8.2.1) with the kind of their default: the parts an override
// for the sentinel may touch (global, sentinel minus its probes,
// persistence, resources and externalAccess, networkPolicy, extraDeploy).
// A list or an empty map is free-form below it.
var chartValues = map[string]string{
	"global.imageRegistry": "string", "global.imagePullSecrets": "list", "global.defaultStorageClass": "string",
	"global.storageClass": "string", "global.security.allowInsecureImages": "bool", "global.redis.password": "string",
	"global.compatibility.openshift.adaptSecurityContext": "string",

	"sentinel.enabled": "bool", "sentinel.image.registry": "string", "sentinel.image.repository": "string",
	"sentinel.image.tag": "string", "sentinel.image.digest": "string", "sentinel.image.pullPolicy": "string",
	"sentinel.image.pullSecrets": "list", "sentinel.image.debug": "bool", "sentinel.annotations": "map",
	"sentinel.masterSet": "string", "sentinel.quorum": "number", "sentinel.getMasterTimeout": "number",
	"sentinel.automateClusterRecovery": "bool", "sentinel.redisShutdownWaitFailover": "bool",
	"sentinel.downAfterMilliseconds": "number", "sentinel.failoverTimeout": "number", "sentinel.parallelSyncs": "number",
	"sentinel.replicaSyncCheck": "bool", "sentinel.configuration": "string", "sentinel.command": "list",
	"sentinel.args": "list", "sentinel.enableServiceLinks": "bool", "sentinel.preExecCmds": "list",
	"sentinel.extraEnvVars": "list", "sentinel.extraEnvVarsCM": "string", "sentinel.extraEnvVarsSecret": "string",
	"sentinel.externalMaster.enabled": "bool", "sentinel.externalMaster.host": "string", "sentinel.externalMaster.port": "number",
	"sentinel.containerPorts.sentinel": "number", "sentinel.customStartupProbe": "map",
	"sentinel.customLivenessProbe": "map", "sentinel.customReadinessProbe": "map", "sentinel.resourcesPreset": "string",
	"sentinel.lifecycleHooks": "map", "sentinel.extraVolumes": "list", "sentinel.extraVolumeMounts": "list",
	"sentinel.service.type": "string", "sentinel.service.ports.redis": "number", "sentinel.service.ports.sentinel": "number",
	"sentinel.service.nodePorts.redis": "string", "sentinel.service.nodePorts.sentinel": "string",
	"sentinel.service.externalTrafficPolicy": "string", "sentinel.service.extraPorts": "list",
	"sentinel.service.clusterIP": "string", "sentinel.service.createMaster": "bool",
	"sentinel.service.loadBalancerIP": "string", "sentinel.service.loadBalancerClass": "string",
	"sentinel.service.loadBalancerSourceRanges": "list", "sentinel.service.annotations": "map",
	"sentinel.service.sessionAffinity": "string", "sentinel.service.sessionAffinityConfig": "map",
	"sentinel.service.headless.annotations": "map", "sentinel.service.headless.extraPorts": "list",
	"sentinel.terminationGracePeriodSeconds": "number", "sentinel.extraPodSpec": "map",

	"networkPolicy.enabled": "bool", "networkPolicy.allowExternal": "bool", "networkPolicy.allowExternalEgress": "bool",
	"networkPolicy.extraIngress": "list", "networkPolicy.extraEgress": "list", "networkPolicy.ingressNSMatchLabels": "map",
	"networkPolicy.ingressNSPodMatchLabels": "map", "networkPolicy.metrics.allowExternal": "bool",
	"networkPolicy.metrics.ingressNSMatchLabels": "map", "networkPolicy.metrics.ingressNSPodMatchLabels": "map",

	"extraDeploy": "list", "commonLabels": "map", "commonAnnotations": "map",
}

// overrideKeys is what deploy/bitnami/values.yaml may set: the image, its
// permission, gosentinel's metrics and what exposes and scrapes them, and
// the SLA's timing (down-after, failover-timeout).
// Anything else would change what the chart does.
var overrideKeys = []string{
	"extraDeploy",
	"global.security.allowInsecureImages",
	"networkPolicy.extraIngress",
	"sentinel.downAfterMilliseconds",
	"sentinel.extraEnvVars",
	"sentinel.failoverTimeout",
	"sentinel.image.digest",
	"sentinel.image.registry",
	"sentinel.image.repository",
	"sentinel.image.tag",
	"sentinel.service.headless.extraPorts",
}

// leaves flattens values into dotted paths, stopping at lists and at keys
// the chart lists as free-form.
func leaves(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || chartValues[prefix] == "map" || chartValues[prefix] == "list" {
		out[prefix] = v
		return
	}
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		leaves(p, x, out)
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case string:
		return "string"
	case float64, int, int64:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return "null"
}

// reDecode converts v (parsed YAML) into out strictly.
func reDecode(t *testing.T, what string, v, out any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, out); err != nil {
		t.Errorf("%s does not decode strictly into %T: %v", what, out, err)
	}
}

// loadValues reads deploy/bitnami/<name>, checks every key it sets is a
// key of the chart with the kind of the chart's default and that it sets
// exactly want, and returns its flattened keys.
func loadValues(t *testing.T, name string, want []string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir(t), "bitnami", name))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.UnmarshalStrict(b, &values); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	flat := map[string]any{}
	leaves("", values, flat)
	var keys []string
	for k, v := range flat {
		keys = append(keys, k)
		want, ok := chartValues[k]
		if !ok {
			t.Errorf("%s: %s is not a key of the chart's values.yaml (23.1.1)", name, k)
			continue
		}
		if got := kindOf(v); got != want && !(want == "map" && got == "map") {
			t.Errorf("%s: %s is a %s, the chart's default is a %s", name, k, got, want)
		}
	}
	sort.Strings(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("%s sets %v, want exactly %v (nothing else of the chart changes)", name, keys, want)
	}
	return flat
}

func TestBitnamiValues(t *testing.T) {
	flat := loadValues(t, "values.yaml", overrideKeys)

	if flat["global.security.allowInsecureImages"] != true {
		t.Errorf("global.security.allowInsecureImages must be true: the chart refuses a replaced image otherwise")
	}
	if flat["sentinel.image.repository"] == "bitnami/redis-sentinel" || flat["sentinel.image.tag"] == "" || flat["sentinel.image.registry"] == "" {
		t.Errorf("sentinel.image must name gosentinel's image: %v/%v:%v", flat["sentinel.image.registry"], flat["sentinel.image.repository"], flat["sentinel.image.tag"])
	}

	// The SLA (failure detected in 5 s) and the kustomize base's set
	// settings: the chart's defaults are 60000 and 180000.
	env := kustomizeEnv(t)
	for key, lit := range map[string]string{"sentinel.downAfterMilliseconds": "DOWN_AFTER_MS", "sentinel.failoverTimeout": "FAILOVER_TIMEOUT_MS"} {
		if got := fmt.Sprint(flat[key]); got != env[lit] {
			t.Errorf("%s = %s, want the kustomize base's %s %s", key, got, lit, env[lit])
		}
	}
	if fmt.Sprint(flat["sentinel.downAfterMilliseconds"]) != "5000" {
		t.Errorf("sentinel.downAfterMilliseconds = %v, want the SLA's 5000", flat["sentinel.downAfterMilliseconds"])
	}

	var extraEnv []corev1.EnvVar
	reDecode(t, "sentinel.extraEnvVars", flat["sentinel.extraEnvVars"], &extraEnv)
	known := map[string]bool{}
	for _, e := range config.Extensions {
		known[e.Env] = true
	}
	var metricsAddr string
	for _, e := range extraEnv {
		if strings.HasPrefix(e.Name, "GOSENTINEL_") && !known[e.Name] {
			t.Errorf("sentinel.extraEnvVars: %s is not one of gosentinel's settings (config.Extensions)", e.Name)
		}
		if e.Name == config.EnvMetricsAddr {
			metricsAddr = e.Value
		}
	}
	_, metricsPortText, err := net.SplitHostPort(metricsAddr)
	if err != nil || metricsPortText != "9355" {
		t.Fatalf("sentinel.extraEnvVars must set %s to :9355, got %q", config.EnvMetricsAddr, metricsAddr)
	}

	var ports []corev1.ServicePort
	reDecode(t, "sentinel.service.headless.extraPorts", flat["sentinel.service.headless.extraPorts"], &ports)
	if len(ports) != 1 || ports[0].Port != metricsPort || ports[0].TargetPort.IntVal != metricsPort {
		t.Fatalf("headless extraPorts = %+v, want one port %d to target port %d", ports, metricsPort, metricsPort)
	}

	var ingress []networkingv1.NetworkPolicyIngressRule
	reDecode(t, "networkPolicy.extraIngress", flat["networkPolicy.extraIngress"], &ingress)
	if len(ingress) != 1 || len(ingress[0].Ports) != 1 || ingress[0].Ports[0].Port.IntVal != metricsPort ||
		len(ingress[0].From) != 1 || ingress[0].From[0].NamespaceSelector == nil ||
		ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != monitoringNS {
		t.Errorf("networkPolicy.extraIngress = %+v, want port %d from namespace %s", ingress, metricsPort, monitoringNS)
	}

	extra, _ := flat["extraDeploy"].([]any)
	if len(extra) != 1 {
		t.Fatalf("extraDeploy: want the ServiceMonitor only, got %d entries", len(extra))
	}
	var sm monitoringv1.ServiceMonitor
	reDecode(t, "extraDeploy[0]", extra[0], &sm)
	if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Kind != "ServiceMonitor" {
		t.Errorf("extraDeploy[0] is %s %s, want a monitoring.coreos.com/v1 ServiceMonitor", sm.APIVersion, sm.Kind)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want port %q path /metrics", sm.Spec.Endpoints, ports[0].Name)
	}
}

// afterRollKeys is what deploy/bitnami/values-after-roll.yaml may set.
var afterRollKeys = []string{"sentinel.customReadinessProbe"}

// TestBitnamiValuesAfterRoll: the values for after the roll replace the
// chart's PING-only readiness probe of the sentinel container with GET
// /readyz on gosentinel's metrics port, so that a gosentinel cut off from
// its group (it answers GET-MASTER-ADDR-BY-NAME with null) leaves Service
// redis, whose sentinels the chart's start scripts ask for the master.
func TestBitnamiValuesAfterRoll(t *testing.T) {
	flat := loadValues(t, "values-after-roll.yaml", afterRollKeys)
	during := loadValues(t, "values.yaml", overrideKeys)

	var probe corev1.Probe
	reDecode(t, "sentinel.customReadinessProbe", flat["sentinel.customReadinessProbe"], &probe)
	g := probe.HTTPGet
	if g == nil || probe.Exec != nil || probe.TCPSocket != nil || probe.GRPC != nil {
		t.Fatalf("sentinel.customReadinessProbe = %+v, want an httpGet only", probe)
	}
	if g.Path != "/readyz" {
		t.Errorf("readiness probe path %q, want /readyz", g.Path)
	}
	// The port the metrics listener is on (values.yaml's
	// GOSENTINEL_METRICS_ADDR, also the headless Service's extra port),
	// as a number: the chart's sentinel container declares only its
	// sentinel port, so a name would not resolve.
	var env []corev1.EnvVar
	reDecode(t, "sentinel.extraEnvVars", during["sentinel.extraEnvVars"], &env)
	var addr string
	for _, e := range env {
		if e.Name == config.EnvMetricsAddr {
			addr = e.Value
		}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("values.yaml sets no usable %s: %q", config.EnvMetricsAddr, addr)
	}
	if g.Port.Type != intstr.Int || strconv.Itoa(int(g.Port.IntVal)) != port {
		t.Errorf("readiness probe port %s, want the number %s (values.yaml's %s)", g.Port.String(), port, config.EnvMetricsAddr)
	}
	if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
		t.Errorf("readiness probe scheme %s, want HTTP", g.Scheme)
	}
	// SLA: a failure is detected within 5 s. A sentinel that answers 503
	// leaves the Service after failureThreshold failed probes, one every
	// periodSeconds; a single lost probe should not take it out.
	if probe.PeriodSeconds <= 0 || probe.FailureThreshold < 2 || probe.PeriodSeconds*probe.FailureThreshold > 5 {
		t.Errorf("readiness probe every %d s, %d failures: want at least 2 failures within 5 s", probe.PeriodSeconds, probe.FailureThreshold)
	}
	if probe.TimeoutSeconds <= 0 || probe.TimeoutSeconds >= probe.PeriodSeconds {
		t.Errorf("readiness probe timeout %d s, want below its period %d s", probe.TimeoutSeconds, probe.PeriodSeconds)
	}
	if probe.SuccessThreshold > 1 {
		t.Errorf("readiness probe successThreshold %d: back in the Service at the first 200", probe.SuccessThreshold)
	}
}

// kustomizeEnv is the sentinel container's environment in the kustomize
// base (the redis-env ConfigMap's literals among it).
func kustomizeEnv(t *testing.T) map[string]string {
	t.Helper()
	m := render(t, filepath.Join(deployDir(t), "kustomize", "base"))
	sts := named(t, m.statefulSets, statefulSet)
	cms := map[string]*corev1.ConfigMap{}
	for _, cm := range m.configMaps {
		cms[cm.Name] = cm
	}
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == "sentinel" {
			return containerEnv(t, c, cms)
		}
	}
	t.Fatal("the kustomize base has no sentinel container")
	return nil
}
