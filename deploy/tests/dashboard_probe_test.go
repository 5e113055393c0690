package tests

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	promqlengine "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunks"
	corev1 "k8s.io/api/core/v1"
)

// epochSeries is redis_sentinel_master_config_epoch as gosentinel exports
// it across one failover at step `at`: the series is labelled with
// master_address (SENTINEL MASTER ip:port), so the epoch changes together
// with the series' identity.
func epochSeries(pod string, steps, at int) []storage.Series {
	mk := func(addr string, from, to int, v float64) storage.Series {
		var ss []chunks.Sample
		for i := from; i < to; i++ {
			ss = append(ss, sample{t: int64(i) * evalStep.Milliseconds(), f: v})
		}
		return storage.NewListSeries(labels.FromStrings("__name__", "redis_sentinel_master_config_epoch",
			"namespace", "ns", "pod", pod, "master_name", "mymaster", "master_address", addr), ss)
	}
	return []storage.Series{
		mk("redis-node-0.redis-headless.x0tta6bl4.svc.cluster.local:6379", 0, at, 0),
		mk("redis-node-1.redis-headless.x0tta6bl4.svc.cluster.local:6379", at, steps, 1),
	}
}

// TestDashboardFailoverAnnotationFires: the dashboard's "failover"
// annotation must mark a failover.
func TestDashboardFailoverAnnotationFires(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir(t), "monitoring", "gosentinel-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Annotations.List) == 0 {
		t.Fatal("no annotation")
	}
	expr := strings.ReplaceAll(d.Annotations.List[0].Expr, `namespace="$namespace"`, `namespace="ns"`)
	var series []storage.Series
	for _, pod := range []string{"s-0", "s-1", "s-2"} {
		series = append(series, epochSeries(pod, 40, 20)...)
	}
	q := queryable(series)
	engine := promqlengine.NewEngine(promqlengine.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	hits := 0
	for at := time.Duration(0); at < 40*evalStep; at += evalStep {
		qry, err := engine.NewInstantQuery(context.Background(), q, nil, expr, time.Unix(0, 0).Add(at))
		if err != nil {
			t.Fatal(err)
		}
		vec, err := qry.Exec(context.Background()).Vector()
		qry.Close()
		if err != nil {
			t.Fatal(err)
		}
		hits += len(vec)
	}
	if hits == 0 {
		t.Errorf("annotation %q never returns a point across a failover (epoch 0 -> 1 at 5m): "+
			"master_address changes with the epoch, so changes() sees two constant series", expr)
	}
}

// TestRedisLivenessToleratesLoading: the redis container's liveness and
// startup probes do not fail while Redis is alive and loading its dataset
// (a replica's full sync after a failover, an AOF replay): PING answers
// -LOADING then (25 times for a 110 MB RDB, with 7.0.15). The Bitnami
// chart's ping_liveness_local.sh accepts LOADING and MASTERDOWN for this
// reason; ours took it for dead. The startup probe runs first: one that
// wanted PONG restarted a node whose AOF or RDB took longer than its
// failureThreshold x periodSeconds (300 s) to load, over and over.
func TestRedisLivenessToleratesLoading(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if strings.Contains(strings.ToUpper(string(buf[:n])), "PING") {
						c.Write([]byte("-LOADING Redis is loading the dataset in memory\r\n"))
					} else {
						c.Write([]byte("+OK\r\n"))
					}
				}
			}()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	m := render(t, filepath.Join(deployDir(t), "kustomize", "base"))
	sts := named(t, m.statefulSets, statefulSet)
	redis := sts.Spec.Template.Spec.Containers[0]
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
	}{{"startup", redis.StartupProbe}, {"liveness", redis.LivenessProbe}} {
		if p.probe == nil || p.probe.Exec == nil {
			t.Errorf("redis container: no exec %s probe", p.name)
			continue
		}
		argv := append([]string{}, p.probe.Exec.Command...)
		if !strings.Contains(argv[len(argv)-1], "-p 6379") {
			t.Errorf("%s probe %v: does not name -p 6379", p.name, argv)
			continue
		}
		argv[len(argv)-1] = strings.ReplaceAll(argv[len(argv)-1], "-p 6379", "-p "+port)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH=pw")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s probe %v fails against a Redis that is loading (it would be restarted after %d failures x %ds): %v %s",
				p.name, p.probe.Exec.Command, p.probe.FailureThreshold, p.probe.PeriodSeconds, err, out)
		}
	}
}
