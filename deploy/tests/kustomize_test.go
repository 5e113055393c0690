package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// What the seed deployment's clients and operators rely on
// (../shared/seed/redis-sentinel-deployment.md): the names stay.
const (
	namespace      = "x0tta6bl4"
	statefulSet    = "redis-node"
	headless       = "redis-headless"
	clientService  = "redis"
	secretName     = "redis-secret"
	secretKey      = "redis-password"
	masterSet      = "mymaster"
	redisPort      = 6379
	sentinelPort   = 26379
	metricsPort    = 9355
	monitoringNS   = "monitoring"
	gosentinelRepo = "ghcr.io/x0tta6bl4/gosentinel"
)

func TestBaseStatefulSet(t *testing.T) {
	m := render(t, filepath.Join(deployDir(t), "kustomize", "base"))
	for id, ns := range m.namespaces {
		if ns != namespace {
			t.Errorf("%s is in namespace %q, want %q", id, ns, namespace)
		}
	}
	sts := named(t, m.statefulSets, statefulSet)
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", sts.Spec.Replicas)
	}
	if sts.Spec.ServiceName != headless {
		t.Errorf("serviceName = %q, want %q", sts.Spec.ServiceName, headless)
	}
	if sts.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("podManagementPolicy = %q, want Parallel (a pod is ready only in a formed group)", sts.Spec.PodManagementPolicy)
	}
	podLabels := labels.Set(sts.Spec.Template.Labels)
	if !selects(t, sts.Spec.Selector, podLabels) {
		t.Errorf("StatefulSet selector %v does not select its pods %v", sts.Spec.Selector, podLabels)
	}
	if podLabels["app.kubernetes.io/name"] != "redis" {
		t.Errorf("pods lack app.kubernetes.io/name=redis, which the seed's kubectl commands select")
	}

	pod := sts.Spec.Template.Spec
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 30", pod.TerminationGracePeriodSeconds)
	}
	checkPodSecurity(t, pod)
	checkAntiAffinity(t, pod, podLabels)
	checkSpread(t, pod, podLabels)

	names := []string{}
	for _, c := range pod.Containers {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"redis", "sentinel"}) {
		t.Fatalf("containers = %v, want [redis sentinel]", names)
	}
	redis, sentinel := pod.Containers[0], pod.Containers[1]
	if !strings.HasPrefix(redis.Image, "redis:7.0.") {
		t.Errorf("redis image = %q, want the official redis 7.0", redis.Image)
	}
	if sentinel.Image != gosentinelRepo+":0.1.0" {
		t.Errorf("sentinel image = %q, want %s:0.1.0", sentinel.Image, gosentinelRepo)
	}
	checkPorts(t, redis, map[string]int32{"redis": redisPort})
	checkPorts(t, sentinel, map[string]int32{"sentinel": sentinelPort, "metrics": metricsPort})

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, claim := range sts.Spec.VolumeClaimTemplates {
		volumes[claim.Name] = corev1.Volume{Name: claim.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}}
	}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, cm := range m.configMaps {
		configMaps[cm.Name] = cm
	}
	for _, c := range pod.Containers {
		checkContainerSecurity(t, c)
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: cpu and memory requests and a memory limit are required, got %v", c.Name, c.Resources)
		}
		env := containerEnv(t, c, configMaps)
		checkPasswordEnv(t, c)
		if env["REPLICAS"] != "3" {
			t.Errorf("%s: REPLICAS = %q, want the StatefulSet's 3", c.Name, env["REPLICAS"])
		}
		for k, want := range map[string]string{
			"STATEFULSET_NAME": statefulSet, "HEADLESS_SERVICE": headless, "CLIENT_SERVICE": clientService,
			"MASTER_SET": masterSet, "REDIS_PORT_NUMBER": "6379", "SENTINEL_PORT": "26379", "METRICS_PORT": "9355",
		} {
			if env[k] != want {
				t.Errorf("%s: %s = %q, want %q", c.Name, k, env[k], want)
			}
		}
		mounts := map[string]corev1.VolumeMount{}
		for _, vm := range c.VolumeMounts {
			mounts[vm.MountPath] = vm
			v, ok := volumes[vm.Name]
			if !ok {
				t.Errorf("%s: mount %s names no volume %q", c.Name, vm.MountPath, vm.Name)
				continue
			}
			if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil {
				t.Errorf("volume %s: ConfigMap %q is not in the kustomization", v.Name, v.ConfigMap.Name)
			}
		}
		// readOnlyRootFilesystem: the paths the container writes are volumes.
		writable := []string{"/tmp"}
		switch c.Name {
		case "redis":
			writable = append(writable, env["REDIS_DATA_DIR"])
		case "sentinel":
			writable = append(writable, env["SENTINEL_CONF_DIR"])
		}
		for _, p := range writable {
			vm, ok := mounts[p]
			if p == "" || !ok || vm.ReadOnly {
				t.Errorf("%s writes %q: want a writable volume mounted there", c.Name, p)
			}
		}
		// Every script a command names is in the scripts ConfigMap.
		for _, argv := range execCommands(c) {
			for _, arg := range argv {
				if dir, file := filepath.Split(arg); strings.HasSuffix(file, ".sh") {
					vm, ok := mounts[filepath.Clean(dir)]
					if !ok || volumes[vm.Name].ConfigMap == nil {
						t.Errorf("%s: %s is not on a ConfigMap volume", c.Name, arg)
						continue
					}
					if _, ok := configMaps[volumes[vm.Name].ConfigMap.Name].Data[file]; !ok {
						t.Errorf("%s: %s is not in ConfigMap %s", c.Name, arg, volumes[vm.Name].ConfigMap.Name)
					}
				}
			}
		}
	}
	var claimNames []string
	for _, c := range sts.Spec.VolumeClaimTemplates {
		claimNames = append(claimNames, c.Name)
	}
	if !slices.Equal(claimNames, []string{"redis-data", "sentinel-etc"}) {
		t.Errorf("volumeClaimTemplates = %v, want redis-data and sentinel-etc", claimNames)
	}
	// The sentinel's state (sentinel.conf and the Raft directory, sentinel.conf's
	// dir) is on a claim of the pod's: on an emptyDir a replaced pod lost its
	// Raft log, and a set whose pods were all replaced made pod 0 the master.
	stateDir := ""
	for _, vm := range sentinel.VolumeMounts {
		if vm.Name == "sentinel-etc" {
			stateDir = vm.MountPath
		}
	}
	if v := volumes["sentinel-etc"]; stateDir == "" || v.PersistentVolumeClaim == nil {
		t.Errorf("sentinel-etc (mounted at %q; an emptyDir: %v) is not a volumeClaimTemplate mounted in the sentinel container", stateDir, v.EmptyDir != nil)
	}
	if got := containerEnv(t, sentinel, configMaps)["SENTINEL_CONF_DIR"]; got != stateDir {
		t.Errorf("sentinel SENTINEL_CONF_DIR = %q, want the sentinel-etc mount %q (sentinel.conf's dir, the Raft state)", got, stateDir)
	}

	// Probes and the preStop of the sentinel container.
	wantExec(t, "sentinel startupProbe", sentinel.StartupProbe, "gosentinel", "health")
	wantExec(t, "sentinel livenessProbe", sentinel.LivenessProbe, "gosentinel", "health")
	if p := sentinel.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port != intstr.FromString("metrics") {
		t.Errorf("sentinel readinessProbe = %+v, want httpGet /readyz on the metrics port", p)
	}
	if sentinel.Lifecycle == nil || sentinel.Lifecycle.PreStop == nil || sentinel.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("sentinel container has no exec preStop")
	}
	preStop := sentinel.Lifecycle.PreStop.Exec.Command
	if len(preStop) < 2 || preStop[0] != "gosentinel" || preStop[1] != "prestop" {
		t.Errorf("sentinel preStop = %v, want gosentinel prestop ...", preStop)
	}
	if got := flagValue(preStop, "--master-set"); got != masterSet {
		t.Errorf("preStop --master-set = %q, want %q", got, masterSet)
	}
	if got := flagValue(preStop, "--redis"); got != "127.0.0.1:6379" {
		t.Errorf("preStop --redis = %q, want the pod's own redis 127.0.0.1:6379", got)
	}
	timeout, err := time.ParseDuration(flagValue(preStop, "--timeout"))
	if err != nil || timeout <= 0 || timeout >= 30*time.Second {
		t.Errorf("preStop --timeout = %q, want a duration below terminationGracePeriodSeconds (30s)", flagValue(preStop, "--timeout"))
	}
	if redis.Lifecycle == nil || redis.Lifecycle.PreStop == nil || redis.Lifecycle.PreStop.Exec == nil {
		t.Errorf("redis container needs a preStop that keeps it up during the switchover")
	}
	if probe := sentinel.StartupProbe; probe != nil && probe.Exec != nil && flagValue(probe.Exec.Command, "-p") != "26379" {
		t.Errorf("health probe -p = %q, want the sentinel port", flagValue(probe.Exec.Command, "-p"))
	}

	// Services.
	hs := named(t, m.services, headless)
	if hs.Spec.ClusterIP != corev1.ClusterIPNone || !hs.Spec.PublishNotReadyAddresses {
		t.Errorf("%s: want clusterIP None and publishNotReadyAddresses", headless)
	}
	checkServicePorts(t, hs, pod, podLabels, map[int32]string{redisPort: "redis", sentinelPort: "sentinel", metricsPort: "metrics"})
	cs := named(t, m.services, clientService)
	checkServicePorts(t, cs, pod, podLabels, map[int32]string{redisPort: "redis", sentinelPort: "sentinel"})

	// PodDisruptionBudget.
	if len(m.pdbs) != 1 {
		t.Fatalf("want one PodDisruptionBudget, got %d", len(m.pdbs))
	}
	pdb := m.pdbs[0]
	if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) || pdb.Spec.MinAvailable != nil {
		t.Errorf("PDB: want maxUnavailable 1 only, got %+v", pdb.Spec)
	}
	if !selects(t, pdb.Spec.Selector, podLabels) {
		t.Errorf("PDB selector %v does not select the pods %v", pdb.Spec.Selector, podLabels)
	}

	checkNetworkPolicy(t, m, podLabels)

	if len(m.secrets) != 0 {
		t.Errorf("the base must not carry a Secret (applying it again would replace the password): %d found", len(m.secrets))
	}
}

// TestSecretGenerator renders deploy/kustomize/secret with a password file,
// as its README says, and finds the Secret the seed creates with kubectl.
func TestSecretGenerator(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(deployDir(t), "kustomize", "secret"), dir)
	const password = "s3cret/with+chars="
	if err := os.WriteFile(filepath.Join(dir, "redis-password.txt"), []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	m := render(t, dir)
	s := named(t, m.secrets, secretName)
	if m.namespaces["Secret/"+secretName] != namespace {
		t.Errorf("Secret namespace = %q, want %q", m.namespaces["Secret/"+secretName], namespace)
	}
	if len(s.Data) != 1 || string(s.Data[secretKey]) != password {
		t.Errorf("Secret data = %v, want only %s = the file's content", s.Data, secretKey)
	}
	if s.Type != corev1.SecretTypeOpaque {
		t.Errorf("Secret type = %q, want Opaque (as kubectl create secret generic)", s.Type)
	}
}

// TestMonitoredOverlay renders the base with the monitoring resources and
// checks the ServiceMonitor reaches the metrics port of every pod.
func TestMonitoredOverlay(t *testing.T) {
	m := render(t, filepath.Join(deployDir(t), "kustomize", "overlays", "monitored"))
	for id, ns := range m.namespaces {
		if ns != namespace {
			t.Errorf("%s is in namespace %q, want %q", id, ns, namespace)
		}
	}
	if len(m.serviceMonitors) != 1 || len(m.rules) != 1 {
		t.Fatalf("want one ServiceMonitor and one PrometheusRule, got %d and %d", len(m.serviceMonitors), len(m.rules))
	}
	sm := m.serviceMonitors[0]
	sts := named(t, m.statefulSets, statefulSet)
	podLabels := labels.Set(sts.Spec.Template.Labels)
	var ports []string
	for _, svc := range m.services {
		if !selects(t, &sm.Spec.Selector, labels.Set(svc.Labels)) {
			continue
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("ServiceMonitor selects Service %s, which does not select the pods", svc.Name)
		}
		for _, p := range svc.Spec.Ports {
			for _, e := range sm.Spec.Endpoints {
				if e.Port == p.Name {
					ports = append(ports, svc.Name+"/"+p.Name)
					if p.Port != metricsPort {
						t.Errorf("ServiceMonitor scrapes %s/%s on %d, want %d", svc.Name, p.Name, p.Port, metricsPort)
					}
				}
			}
		}
	}
	if !slices.Equal(ports, []string{headless + "/http-metrics"}) {
		t.Errorf("ServiceMonitor endpoints resolve to %v, want exactly [%s/http-metrics] (one target per pod)", ports, headless)
	}
	var dashboards int
	for _, cm := range m.configMaps {
		if cm.Labels["grafana_dashboard"] == "1" {
			dashboards++
			if _, ok := cm.Data["gosentinel-dashboard.json"]; !ok {
				t.Errorf("dashboard ConfigMap %s lacks gosentinel-dashboard.json", cm.Name)
			}
		}
	}
	if dashboards != 1 {
		t.Errorf("want one ConfigMap labelled grafana_dashboard, got %d", dashboards)
	}
}

func selects(t testing.TB, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("label selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(set)
}

func checkPodSecurity(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 1001 || sc.RunAsGroup == nil || *sc.RunAsGroup != 1001 ||
		sc.FSGroup == nil || *sc.FSGroup != 1001 || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v, want uid/gid/fsGroup 1001, runAsNonRoot, seccomp RuntimeDefault (as the chart)", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("the pods talk to no API server: automountServiceAccountToken should be false")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("enableServiceLinks should be false (Service redis would set REDIS_PORT=tcp://...)")
	}
}

func checkContainerSecurity(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("%s: securityContext = %+v, want readOnlyRootFilesystem, no privilege escalation, drop ALL", c.Name, sc)
	}
}

func checkAntiAffinity(t *testing.T, pod corev1.PodSpec, podLabels labels.Set) {
	t.Helper()
	if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
		t.Errorf("want pod anti-affinity across nodes")
		return
	}
	for _, term := range pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if term.PodAffinityTerm.TopologyKey == "kubernetes.io/hostname" && selects(t, term.PodAffinityTerm.LabelSelector, podLabels) {
			return
		}
	}
	t.Errorf("want a preferred anti-affinity on kubernetes.io/hostname that selects the pods")
}

// checkSpread: the preferred anti-affinity alone lets the scheduler put two
// of the three pods on one node beside free ones, and losing that node
// leaves neither the Raft majority nor the quorum. A spread constraint of
// skew 1 on the hostname, not scheduled otherwise, gives each pod its own
// node where there are three.
func checkSpread(t *testing.T, pod corev1.PodSpec, podLabels labels.Set) {
	t.Helper()
	for _, c := range pod.TopologySpreadConstraints {
		// Tainted nodes counted as domains with no pod would hold the
		// pods Pending on fewer than three schedulable nodes (a drain).
		honor := c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor
		if c.TopologyKey == "kubernetes.io/hostname" && c.MaxSkew == 1 && honor &&
			c.WhenUnsatisfiable == corev1.DoNotSchedule && selects(t, c.LabelSelector, podLabels) {
			return
		}
	}
	t.Errorf("want a topology spread constraint of skew 1 on kubernetes.io/hostname, DoNotSchedule, honouring taints, that selects the pods")
}

func checkPorts(t *testing.T, c corev1.Container, want map[string]int32) {
	t.Helper()
	got := map[string]int32{}
	for _, p := range c.Ports {
		got[p.Name] = p.ContainerPort
	}
	if len(got) != len(want) {
		t.Errorf("%s: ports %v, want %v", c.Name, got, want)
	}
	for name, port := range want {
		if got[name] != port {
			t.Errorf("%s: port %s = %d, want %d", c.Name, name, got[name], port)
		}
	}
}

// checkServicePorts checks svc selects the pods and maps each port to the
// named container port of that number.
func checkServicePorts(t *testing.T, svc *corev1.Service, pod corev1.PodSpec, podLabels labels.Set, want map[int32]string) {
	t.Helper()
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("Service %s selector %v does not select the pods", svc.Name, svc.Spec.Selector)
	}
	containerPorts := map[string]int32{}
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			containerPorts[p.Name] = p.ContainerPort
		}
	}
	if len(svc.Spec.Ports) != len(want) {
		t.Errorf("Service %s has %d ports, want %d", svc.Name, len(svc.Spec.Ports), len(want))
	}
	for _, p := range svc.Spec.Ports {
		name, ok := want[p.Port]
		if !ok {
			t.Errorf("Service %s: unexpected port %d", svc.Name, p.Port)
			continue
		}
		if p.TargetPort.StrVal != name || containerPorts[name] != p.Port {
			t.Errorf("Service %s port %d targets %q, want the container port %s (%d)", svc.Name, p.Port, p.TargetPort.String(), name, p.Port)
		}
	}
}

// containerEnv resolves the container's environment from its envFrom
// ConfigMaps and literal values (secret references are checked apart).
func containerEnv(t *testing.T, c corev1.Container, configMaps map[string]*corev1.ConfigMap) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("%s: envFrom other than a ConfigMap: %+v", c.Name, from)
			continue
		}
		cm := configMaps[from.ConfigMapRef.Name]
		if cm == nil {
			t.Errorf("%s: envFrom names ConfigMap %q, not in the kustomization", c.Name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

// checkPasswordEnv: the password comes from the seed's Secret, for the
// start script (REDIS_PASSWORD) and for redis-cli and gosentinel's
// subcommands (REDISCLI_AUTH).
func checkPasswordEnv(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, name := range []string{"REDIS_PASSWORD", "REDISCLI_AUTH"} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 {
			t.Errorf("%s: no %s", c.Name, name)
			continue
		}
		ref := c.Env[i].ValueFrom
		if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != secretName || ref.SecretKeyRef.Key != secretKey {
			t.Errorf("%s: %s must come from Secret %s key %s, got %+v", c.Name, name, secretName, secretKey, c.Env[i])
		}
	}
}

func checkNetworkPolicy(t *testing.T, m *manifests, podLabels labels.Set) {
	t.Helper()
	if len(m.networkPolicies) != 1 {
		t.Fatalf("want one NetworkPolicy, got %d", len(m.networkPolicies))
	}
	np := m.networkPolicies[0]
	if !selects(t, &np.Spec.PodSelector, podLabels) {
		t.Errorf("NetworkPolicy does not select the pods")
	}
	if !slices.Contains(np.Spec.PolicyTypes, "Ingress") {
		t.Errorf("NetworkPolicy policyTypes %v lacks Ingress", np.Spec.PolicyTypes)
	}
	open := map[int32]bool{}
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.Type != intstr.Int || p.EndPort != nil {
				t.Errorf("NetworkPolicy: want single numeric ports, got %+v", p)
				continue
			}
			port := p.Port.IntVal
			open[port] = true
			switch port {
			case redisPort, sentinelPort:
			case metricsPort:
				ok := len(rule.From) > 0
				for _, peer := range rule.From {
					if peer.NamespaceSelector == nil || peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != monitoringNS || peer.PodSelector != nil || peer.IPBlock != nil {
						ok = false
					}
				}
				if !ok {
					t.Errorf("NetworkPolicy: port %d must be open only to namespace %s, got from %+v", port, monitoringNS, rule.From)
				}
			default:
				t.Errorf("NetworkPolicy opens port %d; only %d, %d and %d are needed", port, redisPort, sentinelPort, metricsPort)
			}
		}
		if len(rule.Ports) == 0 {
			t.Errorf("NetworkPolicy rule without ports opens every port: %+v", rule)
		}
	}
	for _, p := range []int32{redisPort, sentinelPort, metricsPort} {
		if !open[p] {
			t.Errorf("NetworkPolicy does not open port %d", p)
		}
	}
}

// execCommands lists every exec command of the container: its command,
// probes and lifecycle hooks.
func execCommands(c corev1.Container) [][]string {
	out := [][]string{c.Command}
	for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
		if p != nil && p.Exec != nil {
			out = append(out, p.Exec.Command)
		}
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil && h.Exec != nil {
				out = append(out, h.Exec.Command)
			}
		}
	}
	return out
}

func wantExec(t *testing.T, what string, p *corev1.Probe, argv ...string) {
	t.Helper()
	if p == nil || p.Exec == nil || len(p.Exec.Command) < len(argv) || !slices.Equal(p.Exec.Command[:len(argv)], argv) {
		t.Errorf("%s = %+v, want exec %v ...", what, p, argv)
	}
}

// flagValue returns the argument after flag in argv ("" if absent).
func flagValue(argv []string, flag string) string {
	i := slices.Index(argv, flag)
	if i < 0 || i+1 >= len(argv) {
		return ""
	}
	return argv[i+1]
}
