package sentinel

import (
	"strings"
	"testing"
)

// CLIENT SETINFO answers like redis 7.2's clientSetinfoCommand, and the
// values show at the end of CLIENT INFO / CLIENT LIST lines.
func TestClientSetinfo(t *testing.T) {
	_, addr := startServer(t, Config{})
	rc := dialRaw(t, addr)
	other := dialRaw(t, addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26.8)"}, "+OK\r\n"},
		{[]string{"client", "setinfo", "lib-ver", "9.23.0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "foo", "x"}, "-ERR Unrecognized option 'foo'\r\n"},
		{[]string{"CLIENT", "SETINFO", "a\r\nb", "x"}, "-ERR Unrecognized option 'a  b'\r\n"},
		{[]string{"CLIENT", "SETINFO", "Lib-Name", "a b"}, "-ERR Lib-Name cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-VER", "1\n2"}, "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "a", "b"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
	} {
		if got := string(rc.do(tc.args...)); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
	info := string(rc.do("CLIENT", "INFO"))
	if !strings.HasSuffix(info, " resp=2 lib-name=go-redis(,go1.26.8) lib-ver=9.23.0\n\r\n") {
		t.Errorf("CLIENT INFO = %q, want the lib fields after resp", info)
	}
	list := string(other.do("CLIENT", "LIST"))
	if !strings.Contains(list, " lib-name=go-redis(,go1.26.8) lib-ver=9.23.0\n") ||
		!strings.Contains(list, "cmd=client|list user=default redir=-1 resp=2 lib-name= lib-ver=\n") {
		t.Errorf("CLIENT LIST = %q, want both clients' lib fields", list)
	}
	// An empty value clears the attribute.
	rc.do("CLIENT", "SETINFO", "lib-name", "")
	if info := string(rc.do("CLIENT", "INFO")); !strings.HasSuffix(info, " lib-name= lib-ver=9.23.0\n\r\n") {
		t.Errorf("after clearing lib-name, CLIENT INFO = %q", info)
	}
	// RESP3 clients see the same fields in the verbatim string.
	rc.do("HELLO", "3")
	if info := string(rc.do("CLIENT", "INFO")); !strings.HasPrefix(info, "=") || !strings.HasSuffix(info, " resp=3 lib-name= lib-ver=9.23.0\n\r\n") {
		t.Errorf("RESP3 CLIENT INFO = %q", info)
	}
}

// CLIENT SETINFO runs but is not listed: introspection answers as 7.0.15,
// which the official Sentinel suite counts (72 commands, 15 top-level).
func TestClientSetinfoUnlisted(t *testing.T) {
	_, addr := startServer(t, Config{})
	rc := dialRaw(t, addr)
	help, err := readCaptured("7.0", "help-client.resp")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"COMMAND", "COUNT"}, ":15\r\n"},
		{[]string{"COMMAND", "INFO", "client|setinfo"}, "*1\r\n$-1\r\n"},
		{[]string{"COMMAND", "DOCS", "client|setinfo"}, "*0\r\n"},
		{[]string{"CLIENT", "HELP"}, string(help)},
		{[]string{"ACL", "SETUSER", "u", "+client|setinfo"}, "-ERR Error in ACL SETUSER modifier '+client|setinfo': Unknown command or category name in ACL\r\n"},
	} {
		if got := string(rc.do(tc.args...)); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, q := range [][]string{{"COMMAND", "LIST"}, {"COMMAND"}, {"ACL", "CAT", "connection"}} {
		if got := string(rc.do(q...)); strings.Contains(got, "client|setinfo") {
			t.Errorf("%q lists client|setinfo", q)
		}
	}
	if got := string(rc.do("COMMAND", "LIST")); !strings.HasPrefix(got, "*72\r\n") {
		t.Errorf("COMMAND LIST = %.20q..., want 72 names", got)
	}
}

// CLIENT SETINFO is governed by client|setname's permission (doc.go): a
// user allowed +client, +@connection or +client|setname may call it; a
// denial names client|setinfo and is logged.
func TestClientSetinfoACL(t *testing.T) {
	_, addr := startServer(t, Config{})
	admin := dialRaw(t, addr)
	for _, tc := range []struct {
		rules []string
		want  string
	}{
		{[]string{"-@all", "+client"}, "+OK\r\n"},
		{[]string{"-@all", "+@connection"}, "+OK\r\n"},
		{[]string{"-@all", "+client|setname"}, "+OK\r\n"},
		{[]string{"+@all", "-client|setname"}, "-NOPERM this user has no permissions to run the 'client|setinfo' command\r\n"},
		{[]string{"-@all", "+ping"}, "-NOPERM this user has no permissions to run the 'client|setinfo' command\r\n"},
	} {
		setuser := append([]string{"ACL", "SETUSER", "lib", "reset", "on", "nopass"}, tc.rules...)
		if got := string(admin.do(setuser...)); got != "+OK\r\n" {
			t.Fatalf("%q = %q", setuser, got)
		}
		lib := dialRaw(t, addr)
		lib.do("AUTH", "lib", "x")
		if got := string(lib.do("CLIENT", "SETINFO", "LIB-NAME", "x")); got != tc.want {
			t.Errorf("with %q, SETINFO = %q, want %q", tc.rules, got, tc.want)
		}
	}
	if got := string(admin.do("ACL", "LOG", "1")); !strings.Contains(got, "\r\nclient|setinfo\r\n") || !strings.Contains(got, "\r\nlib\r\n") {
		t.Errorf("ACL LOG = %q, want the denied client|setinfo", got)
	}
}
