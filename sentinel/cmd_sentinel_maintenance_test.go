package sentinel

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMaintenance(t *testing.T) {
	args := func(s string) []string { return append([]string{"SENTINEL", "MAINTENANCE"}, strings.Fields(s)...) }
	for _, tc := range []struct {
		in      string
		want    maintenanceRequest
		wantErr string
	}{
		{in: "", want: maintenanceRequest{status: true}},
		{in: "status", want: maintenanceRequest{status: true}},
		{in: "StAtUs", want: maintenanceRequest{status: true}},
		{in: "on", want: maintenanceRequest{paused: true, names: []string{}}},
		{in: "ON MyMaster other", want: maintenanceRequest{paused: true, names: []string{"MyMaster", "other"}}},
		{in: "off", want: maintenanceRequest{names: []string{}}},
		{in: "Off mymaster", want: maintenanceRequest{names: []string{"mymaster"}}},
		{in: "status mymaster", wantErr: "ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'status'"},
		{in: "pause", wantErr: "ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'pause'"},
		{in: "mymaster on", wantErr: "ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'mymaster'"},
	} {
		got, errText := parseMaintenance(args(tc.in))
		if errText != tc.wantErr {
			t.Errorf("%q: error %q, want %q", tc.in, errText, tc.wantErr)
			continue
		}
		if tc.wantErr == "" && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// SENTINEL MAINTENANCE on the wire: ON/OFF reply +OK or the backend's
// error, the status is a flat array in RESP2 and a map in RESP3.
func TestSentinelMaintenance(t *testing.T) {
	_, addr := startServer(t, Config{})
	rc := dialRaw(t, addr)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"SENTINEL", "MAINTENANCE"}, "*2\r\n$1\r\n*\r\n$1\r\n0\r\n"},
		{[]string{"sentinel", "maintenance", "on", "mymaster"}, "+OK\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "STATUS"}, "*4\r\n$1\r\n*\r\n$1\r\n0\r\n$8\r\nmymaster\r\n$1\r\n1\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "ON"}, "+OK\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE"}, "*4\r\n$1\r\n*\r\n$1\r\n1\r\n$8\r\nmymaster\r\n$1\r\n1\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "ON", "mymaster", "nosuch"}, "-ERR No such master with that name\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "OFF"}, "+OK\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE"}, "*2\r\n$1\r\n*\r\n$1\r\n0\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "OFF", "nosuch"}, "-ERR No such master with that name\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "BOGUS"}, "-ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'BOGUS'\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "STATUS", "x"}, "-ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'STATUS'\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "a\r\nb"}, "-ERR Unknown option or number of arguments for SENTINEL MAINTENANCE 'a  b'\r\n"},
		{[]string{"SENTINEL", "MAINTENANCE", "ON", "mymaster"}, "+OK\r\n"},
		{[]string{"HELLO", "3"}, ""},
		{[]string{"SENTINEL", "MAINTENANCE"}, "%2\r\n$1\r\n*\r\n$1\r\n0\r\n$8\r\nmymaster\r\n$1\r\n1\r\n"},
	}
	for _, s := range steps {
		got := string(rc.do(s.args...))
		if s.want != "" && got != s.want {
			t.Errorf("%q = %q, want %q", s.args, got, s.want)
		}
	}
}

// SENTINEL MAINTENANCE runs but is not listed: introspection and SENTINEL
// HELP stay 7.0.15's byte for byte.
func TestSentinelMaintenanceUnlisted(t *testing.T) {
	_, addr := startServer(t, Config{})
	rc := dialRaw(t, addr)
	help, err := readCaptured("7.0", "help-sentinel.resp")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"COMMAND", "COUNT"}, ":15\r\n"},
		{[]string{"COMMAND", "INFO", "sentinel|maintenance"}, "*1\r\n$-1\r\n"},
		{[]string{"COMMAND", "DOCS", "sentinel|maintenance"}, "*0\r\n"},
		{[]string{"SENTINEL", "HELP"}, string(help)},
		{[]string{"ACL", "SETUSER", "u", "+sentinel|maintenance"}, "-ERR Error in ACL SETUSER modifier '+sentinel|maintenance': Unknown command or category name in ACL\r\n"},
	} {
		if got := string(rc.do(tc.args...)); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, q := range [][]string{{"COMMAND", "LIST"}, {"COMMAND"}, {"ACL", "CAT", "admin"}} {
		if got := string(rc.do(q...)); strings.Contains(got, "maintenance") {
			t.Errorf("%q lists sentinel|maintenance", q)
		}
	}
}

// SENTINEL MAINTENANCE is governed by sentinel|failover's permission: an
// admin command (+@admin), like SENTINEL SET and FAILOVER.
func TestSentinelMaintenanceACL(t *testing.T) {
	_, addr := startServer(t, Config{})
	admin := dialRaw(t, addr)
	denied := "-NOPERM this user has no permissions to run the 'sentinel|maintenance' command\r\n"
	for _, tc := range []struct {
		rules []string
		want  string
	}{
		{[]string{"-@all", "+sentinel"}, "+OK\r\n"},
		{[]string{"-@all", "+@admin"}, "+OK\r\n"},
		{[]string{"-@all", "+sentinel|failover"}, "+OK\r\n"},
		{[]string{"+@all", "-sentinel|failover"}, denied},
		{[]string{"+@all", "-@admin"}, denied},
		{[]string{"-@all", "+sentinel|masters"}, denied},
		{[]string{"-@all", "+@read"}, denied},
	} {
		setuser := append([]string{"ACL", "SETUSER", "op", "reset", "on", "nopass"}, tc.rules...)
		if got := string(admin.do(setuser...)); got != "+OK\r\n" {
			t.Fatalf("%q = %q", setuser, got)
		}
		op := dialRaw(t, addr)
		op.do("AUTH", "op", "x")
		if got := string(op.do("SENTINEL", "MAINTENANCE", "ON")); got != tc.want {
			t.Errorf("with %q, MAINTENANCE ON = %q, want %q", tc.rules, got, tc.want)
		}
	}
	if got := string(admin.do("ACL", "LOG", "1")); !strings.Contains(got, "\r\nsentinel|maintenance\r\n") {
		t.Errorf("ACL LOG = %q, want the denied sentinel|maintenance", got)
	}
}
