package config

import (
	"errors"
	"strings"
	"testing"
)

func TestMetricsAddrDirective(t *testing.T) {
	src := "port 26379\n# metrics\nmetrics-addr 127.0.0.1:9355\nsentinel monitor m 127.0.0.1 6379 2\n"
	c, err := Parse("x.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "127.0.0.1:9355" {
		t.Fatalf("MetricsAddr = %q", c.MetricsAddr)
	}
	// Kept in place on rewrite, and read back the same.
	out := string(Render(c, []byte(src)))
	if !strings.Contains(out, "# metrics\nmetrics-addr 127.0.0.1:9355\n") {
		t.Fatalf("rewrite lost metrics-addr:\n%s", out)
	}
	if c2, err := Parse("x.conf", []byte(out), nil); err != nil || c2.MetricsAddr != c.MetricsAddr {
		t.Fatalf("round trip: %v %+v", err, c2)
	}
	// Unset: no line is written; removed: its line goes.
	c.MetricsAddr = ""
	if out := string(Render(c, []byte(src))); strings.Contains(out, "metrics-addr") {
		t.Fatalf("rewrite kept an unset metrics-addr:\n%s", out)
	}
	// The command line form: --metrics-addr :9355.
	c, err = Parse("x.conf", []byte("port 26379\n"), [][]string{{"metrics-addr", ":9355"}})
	if err != nil || c.MetricsAddr != ":9355" {
		t.Fatalf("override: %v %q", err, c.MetricsAddr)
	}
	// --metrics-addr "" turns a file's metrics-addr off (it was refused:
	// missing port in address), and the rewrite drops its line.
	c, err = Parse("x.conf", []byte(src), [][]string{{"metrics-addr", ""}})
	if err != nil {
		t.Fatalf(`--metrics-addr "": %v`, err)
	}
	if c.MetricsAddr != "" {
		t.Fatalf(`--metrics-addr "": metrics-addr %q, want off`, c.MetricsAddr)
	}
	if out := string(Render(c, []byte(src))); strings.Contains(out, "metrics-addr") {
		t.Fatalf("rewrite kept a metrics-addr turned off:\n%s", out)
	}
}

func TestMetricsAddrErrors(t *testing.T) {
	for _, tc := range []struct{ value, reason string }{
		{"9355", "metrics-addr must be host:port, e.g. :9355 or 127.0.0.1:9355 (missing port in address)"},
		{"127.0.0.1:http", "metrics-addr port must be a number from 0 to 65535"},
		{"127.0.0.1:70000", "metrics-addr port must be a number from 0 to 65535"},
		{"[::1:9355", "metrics-addr must be host:port"},
	} {
		_, err := Parse("x.conf", []byte("port 26379\nmetrics-addr "+tc.value+"\n"), nil)
		var fe *FatalError
		if !errors.As(err, &fe) {
			t.Errorf("metrics-addr %s: %v, want a FatalError", tc.value, err)
			continue
		}
		if fe.Line != 2 || !strings.HasPrefix(fe.Reason, tc.reason) || !strings.Contains(err.Error(), "x.conf, line 2: ") {
			t.Errorf("metrics-addr %s: line %d reason %q", tc.value, fe.Line, fe.Reason)
		}
	}
	if _, err := Parse("x.conf", []byte("metrics-addr :1 :2\n"), nil); err == nil || !strings.Contains(err.Error(), "Bad directive or wrong number of arguments") {
		t.Errorf("two arguments: %v", err)
	}
	for _, ok := range []string{":9355", "0.0.0.0:0", "[::1]:9355", "localhost:9355"} {
		if _, err := ParseMetricsAddr(ok); err != nil {
			t.Errorf("ParseMetricsAddr(%q): %v", ok, err)
		}
	}
}
