package sentinel

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// mirrorBackend answers every Backend call by running the equivalent
// command on a real redis-sentinel. Comparison tests run the same command
// stream against another real sentinel and against a Server backed by a
// mirror of an identically configured one, so only the command surface
// differs.
type mirrorBackend struct {
	t  testing.TB
	mu sync.Mutex
	rc *rawConn
}

func newMirrorBackend(t testing.TB, addr, password string) *mirrorBackend {
	m := &mirrorBackend{t: t, rc: dialRaw(t, addr)}
	if password != "" {
		m.call("AUTH", password)
	}
	return m
}

// call runs a command on the mirrored sentinel and returns the parsed reply.
func (m *mirrorBackend) call(args ...string) respValue {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rc.send(encodeCommand(args...))
	b, err := m.rc.reply(5 * time.Second)
	if err != nil {
		m.t.Errorf("mirror %q: %v", args, err)
		return respValue{typ: '-', str: "ERR mirror failure"}
	}
	v, _, err := scanRESP(b)
	if err != nil {
		m.t.Errorf("mirror %q: %v", args, err)
	}
	return v
}

func replyErr(v respValue) error {
	if v.typ == '-' {
		return ReplyError(v.str)
	}
	return nil
}

func toFields(v respValue) Fields {
	var f Fields
	for _, kv := range v.pairs() {
		f = append(f, Field{kv[0].str, kv[1].str})
	}
	return f
}

func toFieldsList(v respValue) []Fields {
	var out []Fields
	for _, ch := range v.children {
		out = append(out, toFields(ch))
	}
	return out
}

func (m *mirrorBackend) MyID() string { return m.call("SENTINEL", "MYID").str }

func (m *mirrorBackend) MasterNames() []string {
	var out []string
	for _, ch := range m.call("ROLE").children[1].children {
		out = append(out, ch.str)
	}
	return out
}

func (m *mirrorBackend) RenderMasters(w MapWriter) {
	_ = writeList(w)(toFieldsList(m.call("SENTINEL", "MASTERS")), nil)
}

func (m *mirrorBackend) RenderMaster(name string, w MapWriter) error {
	v := m.call("SENTINEL", "MASTER", name)
	if err := replyErr(v); err != nil {
		return err
	}
	writeFields(w, toFields(v))
	return nil
}

func (m *mirrorBackend) RenderReplicas(name string, w MapWriter) error {
	v := m.call("SENTINEL", "REPLICAS", name)
	return writeList(w)(toFieldsList(v), replyErr(v))
}

func (m *mirrorBackend) RenderSentinels(name string, w MapWriter) error {
	v := m.call("SENTINEL", "SENTINELS", name)
	return writeList(w)(toFieldsList(v), replyErr(v))
}

func (m *mirrorBackend) MasterAddr(name string) (string, string, bool) {
	v := m.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
	if len(v.children) != 2 {
		return "", "", false
	}
	return v.children[0].str, v.children[1].str, true
}

func (m *mirrorBackend) IsMasterDownByAddr(ip string, port int, epoch uint64, runid string) (bool, string, uint64) {
	v := m.call("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", ip, fmt.Sprint(port), fmt.Sprint(int64(epoch)), runid)
	if len(v.children) != 3 {
		m.t.Errorf("is-master-down-by-addr: %q", v.raw)
		return false, "*", 0
	}
	e, _ := string2ll(v.children[2].str)
	return v.children[0].str == "1", v.children[1].str, uint64(e)
}

func (m *mirrorBackend) Reset(pattern string) int {
	n, _ := string2ll(m.call("SENTINEL", "RESET", pattern).str)
	return int(n)
}

func (m *mirrorBackend) Failover(name string) error {
	return replyErr(m.call("SENTINEL", "FAILOVER", name))
}

func (m *mirrorBackend) CKQuorum(name string) (string, error) {
	v := m.call("SENTINEL", "CKQUORUM", name)
	return v.str, replyErr(v)
}

func (m *mirrorBackend) FlushConfig() error { return replyErr(m.call("SENTINEL", "FLUSHCONFIG")) }

func (m *mirrorBackend) Monitor(name, host, port, quorum string) error {
	return replyErr(m.call("SENTINEL", "MONITOR", name, host, port, quorum))
}

func (m *mirrorBackend) Remove(name string) error {
	return replyErr(m.call("SENTINEL", "REMOVE", name))
}

func (m *mirrorBackend) Set(name string, args []string) error {
	return replyErr(m.call(append([]string{"SENTINEL", "SET", name}, args...)...))
}

func (m *mirrorBackend) ConfigGet(patterns []string) Fields {
	return toFields(m.call(append([]string{"SENTINEL", "CONFIG", "GET"}, patterns...)...))
}

func (m *mirrorBackend) ConfigSet(args []string) error {
	return replyErr(m.call(append([]string{"SENTINEL", "CONFIG", "SET"}, args...)...))
}

func (m *mirrorBackend) InfoCache(names []string) []InfoCacheMaster {
	v := m.call(append([]string{"SENTINEL", "INFO-CACHE"}, names...)...)
	var out []InfoCacheMaster
	for _, kv := range v.pairs() {
		im := InfoCacheMaster{Name: kv[0].str}
		for _, e := range kv[1].children {
			age, _ := string2ll(e.children[0].str)
			im.Entries = append(im.Entries, InfoCacheEntry{AgeMillis: age, Info: e.children[1].str, Valid: e.children[1].typ == '$' && !strings.HasPrefix(string(e.children[1].raw), "$-1")})
		}
		out = append(out, im)
	}
	return out
}

func (m *mirrorBackend) PendingScripts() []PendingScript { return nil }

func (m *mirrorBackend) SimulateFailure(flags []string) {
	if len(flags) == 0 {
		flags = []string{"help"} // clears the flags, like any call
	}
	m.call(append([]string{"SENTINEL", "SIMULATE-FAILURE"}, flags...)...)
}

func (m *mirrorBackend) Debug(args []string) (Fields, error) {
	v := m.call(append([]string{"SENTINEL", "DEBUG"}, args...)...)
	if len(args) == 0 {
		return toFields(v), replyErr(v)
	}
	return nil, replyErr(v)
}

// SENTINEL MAINTENANCE is gosentinel's own: redis-sentinel has nothing
// to mirror, so nothing is ever paused.
func (m *mirrorBackend) SetMaintenance(bool, []string) error       { return nil }
func (m *mirrorBackend) Maintenance() (all bool, masters []string) { return false, nil }

func (m *mirrorBackend) Hello(payload string) { m.call("PUBLISH", "__sentinel__:hello", payload) }

func (m *mirrorBackend) InfoSentinel() []string {
	v := m.call("INFO", "sentinel")
	lines := strings.Split(strings.TrimRight(v.str, "\r\n"), "\r\n")
	return lines[1:]
}

func (m *mirrorBackend) AfterMonitor(name string) {}

// InfoSection: redis-sentinel has no sections of ours.
func (m *mirrorBackend) InfoSection(string) (string, bool) { return "", false }
