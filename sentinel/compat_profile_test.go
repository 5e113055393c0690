package sentinel

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// Each profile's table is its version's: 7.0.15 lists 72 commands and
// subcommands and no CLIENT SETINFO (which still runs, unlisted); 8.0.2
// lists CLIENT SETINFO with its captured docs.
func TestProfileTables(t *testing.T) {
	t70, t80 := tables[compat.V70], tables[compat.V80]
	if len(t70.all) != 72 || t70.lookupFullName("client|setinfo") != nil || t70.setinfo == nil {
		t.Fatalf("7.0 table: %d entries, setinfo listed %v", len(t70.all), t70.lookupFullName("client|setinfo") != nil)
	}
	si := t80.lookupFullName("client|setinfo")
	if si == nil || si.docs[resp2] == nil || si.info[resp2] == nil || t80.setinfo != nil {
		t.Fatalf("8.0 table lacks a captured client|setinfo")
	}
	if si.proc == nil {
		t.Fatal("8.0 client|setinfo has no procedure")
	}
	for _, tbl := range tables {
		for _, cmd := range tbl.all {
			if cmd.proc == nil {
				t.Errorf("%s has no procedure", cmd.name)
			}
		}
		if tbl.maintenance == nil || tbl.lookupRunnable([]string{"SENTINEL", "MAINTENANCE"}) != tbl.maintenance {
			t.Error("SENTINEL MAINTENANCE not runnable")
		}
	}
}

// COMMAND LIST, COMMAND DOCS and INFO follow the server's profile.
func TestProfileSelectsTableAndVersion(t *testing.T) {
	for _, tc := range []struct {
		p       compat.Profile
		listed  bool
		version string
	}{{compat.V70, false, "7.0.15"}, {compat.V80, true, "8.0.2"}} {
		_, addr := startServer(t, Config{Backend: &fakeBackend{}, Compat: tc.p})
		rc := dialRaw(t, addr)
		list := string(rc.do("COMMAND", "LIST"))
		if got := strings.Contains(list, "$14\r\nclient|setinfo\r\n"); got != tc.listed {
			t.Errorf("%s: COMMAND LIST has client|setinfo: %v", tc.p, got)
		}
		docs := string(rc.do("COMMAND", "DOCS", "client|setinfo"))
		if empty := docs == "*0\r\n"; empty == tc.listed {
			t.Errorf("%s: COMMAND DOCS client|setinfo = %q", tc.p, docs)
		}
		if got := string(rc.do("CLIENT", "SETINFO", "lib-name", "x")); got != "+OK\r\n" {
			t.Errorf("%s: CLIENT SETINFO = %q", tc.p, got)
		}
		if info := string(rc.do("INFO", "server")); !strings.Contains(info, "redis_version:"+tc.version+"\r\n") {
			t.Errorf("%s: INFO lacks redis_version:%s", tc.p, tc.version)
		}
	}
}

// SENTINEL CONFIG: one parameter in 7.0 (anything else is 7.0.15's usage
// error), several in 8.0 (handed to the backend whole, with 8.0.2's
// usage and arity errors).
func TestConfigArgumentsPerProfile(t *testing.T) {
	var gotGet, gotSet []string
	fb := &fakeBackend{
		CfgGetFn: func(p []string) Fields { gotGet = append([]string(nil), p...); return Fields{{"announce-port", "1"}} },
		CfgSetFn: func(a []string) error { gotSet = append([]string(nil), a...); return nil },
	}
	const usage70 = "-ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.\r\n"
	const usage80 = "-ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported.\r\n"
	for _, tc := range []struct {
		p    compat.Profile
		args []string
		want string
		get  []string
		set  []string
	}{
		{compat.V70, []string{"SET", "announce-port", "1"}, "+OK\r\n", nil, []string{"announce-port", "1"}},
		{compat.V70, []string{"SET", "announce-port", "1", "loglevel", "debug"}, usage70, nil, nil},
		{compat.V70, []string{"GET", "a", "b"}, usage70, nil, nil},
		{compat.V70, []string{"GET", "announce-port"}, "*2\r\n$13\r\nannounce-port\r\n$1\r\n1\r\n", []string{"announce-port"}, nil},
		{compat.V80, []string{"SET", "announce-port", "1", "loglevel", "debug"}, "+OK\r\n", nil, []string{"announce-port", "1", "loglevel", "debug"}},
		{compat.V80, []string{"SET", "announce-port", "1", "loglevel"}, "+OK\r\n", nil, []string{"announce-port", "1", "loglevel"}},
		{compat.V80, []string{"GET", "a", "b"}, "*2\r\n$13\r\nannounce-port\r\n$1\r\n1\r\n", []string{"a", "b"}, nil},
		{compat.V80, []string{"SET", "x"}, usage80, nil, nil},
		{compat.V80, []string{"NOPE", "x"}, usage80, nil, nil},
	} {
		gotGet, gotSet = nil, nil
		_, addr := startServer(t, Config{Backend: fb, Compat: tc.p})
		rc := dialRaw(t, addr)
		got := string(rc.do(append([]string{"SENTINEL", "CONFIG"}, tc.args...)...))
		name := fmt.Sprintf("%s CONFIG %v", tc.p, tc.args)
		if got != tc.want {
			t.Errorf("%s = %q, want %q", name, got, tc.want)
		}
		if !reflect.DeepEqual(gotGet, tc.get) || !reflect.DeepEqual(gotSet, tc.set) {
			t.Errorf("%s: backend got GET %q SET %q, want %q %q", name, gotGet, gotSet, tc.get, tc.set)
		}
	}
}

// Valkey 9's SENTINEL FAILOVER <name> COORDINATED is accepted in every
// profile; another word is refused with Valkey's text, after the master's
// existence; COMMAND keeps redis' arity.
func TestFailoverCoordinated(t *testing.T) {
	var failed []string
	fb := &fakeBackend{FailFn: func(name string) error { failed = append(failed, name); return nil }}
	for _, p := range compat.Profiles {
		failed = nil
		_, addr := startServer(t, Config{Backend: fb, Compat: p})
		rc := dialRaw(t, addr)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "COORDINATED"}, "+OK\r\n"},
			{[]string{"SENTINEL", "failover", "mymaster", "coordinated"}, "+OK\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "FORCE"}, "-ERR Unknown failover option specified\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "nosuch", "FORCE"}, "-ERR No such master with that name\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster", "COORDINATED", "x"}, "-ERR wrong number of arguments for 'sentinel|failover' command\r\n"},
			{[]string{"SENTINEL", "FAILOVER", "mymaster"}, "+OK\r\n"},
		} {
			if got := string(rc.do(c.args...)); got != c.want {
				t.Errorf("%s %v = %q, want %q", p, c.args, got, c.want)
			}
		}
		if want := []string{"mymaster", "mymaster", "mymaster"}; !reflect.DeepEqual(failed, want) {
			t.Errorf("%s: failovers started %q, want %q", p, failed, want)
		}
		if info := string(rc.do("COMMAND", "INFO", "sentinel|failover")); !strings.Contains(info, ":3\r\n") {
			t.Errorf("%s: COMMAND INFO sentinel|failover arity changed: %q", p, info)
		}
	}
}
