package sentinel

import (
	"strconv"
	"sync"
)

// fakeBackend implements Backend with overridable functions; nil functions
// fall back to a small fixed state with one master "mymaster".
type fakeBackend struct {
	mu        sync.Mutex
	hellos    []string
	simFlags  []string
	resets    []string
	MyIDFn    func() string
	MastersFn func() []Fields
	MasterFn  func(string) (Fields, error)
	AddrFn    func(string) (string, string, bool)
	ReplFn    func(string) ([]Fields, error)
	SentFn    func(string) ([]Fields, error)
	DownFn    func(ip string, port int, epoch uint64, runid string) (bool, string, uint64)
	FailFn    func(string) error
	QuorumFn  func(string) (string, error)
	FlushFn   func() error
	MonitorFn func(name, host, port, quorum string) error
	RemoveFn  func(string) error
	SetFn     func(string, []string) error
	CfgGetFn  func([]string) Fields
	CfgSetFn  func([]string) error
	CacheFn   func([]string) []InfoCacheMaster
	ScriptsFn func() []PendingScript
	DebugFn   func([]string) (Fields, error)
	InfoFn    func() []string
	// Sections are extra INFO sections by name.
	Sections map[string]string
	// pausedAll and pausedMaster are SENTINEL MAINTENANCE's state.
	pausedAll, pausedMaster bool
}

func (f *fakeBackend) InfoSection(name string) (string, bool) {
	s, ok := f.Sections[name]
	return s, ok
}

func fakeMasterFields(name string) Fields {
	return Fields{{"name", name}, {"ip", "127.0.0.1"}, {"port", "6379"}, {"runid", ""},
		{"flags", "master"}, {"link-pending-commands", "0"}, {"quorum", "2"}}
}

func (f *fakeBackend) MyID() string {
	if f.MyIDFn != nil {
		return f.MyIDFn()
	}
	return "0123456789012345678901234567890123456789"
}

func (f *fakeBackend) MasterNames() []string { return []string{"mymaster"} }

// masters, master, replicas and sentinels are the instance maps the
// Render methods write (see writeList).
func (f *fakeBackend) masters() []Fields {
	if f.MastersFn != nil {
		return f.MastersFn()
	}
	return []Fields{fakeMasterFields("mymaster")}
}

func (f *fakeBackend) master(name string) (Fields, error) {
	if f.MasterFn != nil {
		return f.MasterFn(name)
	}
	if name != "mymaster" {
		return nil, ErrNoSuchMaster
	}
	return fakeMasterFields(name), nil
}

func (f *fakeBackend) replicas(name string) ([]Fields, error) {
	if f.ReplFn != nil {
		return f.ReplFn(name)
	}
	if name != "mymaster" {
		return nil, ErrNoSuchMaster
	}
	return nil, nil
}

func (f *fakeBackend) sentinels(name string) ([]Fields, error) {
	if f.SentFn != nil {
		return f.SentFn(name)
	}
	if name != "mymaster" {
		return nil, ErrNoSuchMaster
	}
	return nil, nil
}

func (f *fakeBackend) RenderMasters(w MapWriter) { _ = writeList(w)(f.masters(), nil) }

func (f *fakeBackend) RenderMaster(name string, w MapWriter) error {
	m, err := f.master(name)
	if err != nil {
		return err
	}
	writeFields(w, m)
	return nil
}

func (f *fakeBackend) RenderReplicas(name string, w MapWriter) error {
	return writeList(w)(f.replicas(name))
}

func (f *fakeBackend) RenderSentinels(name string, w MapWriter) error {
	return writeList(w)(f.sentinels(name))
}

// writeList writes list's maps to w, or returns err having written
// nothing.
func writeList(w MapWriter) func(list []Fields, err error) error {
	return func(list []Fields, err error) error {
		if err != nil {
			return err
		}
		w.Len(len(list))
		for _, f := range list {
			writeFields(w, f)
		}
		return nil
	}
}

// writeFields writes one map, numbers (a value that is an integer in its
// shortest form) through Int as the node writes them.
func writeFields(w MapWriter, f Fields) {
	for _, kv := range f {
		if n, err := strconv.ParseInt(kv.Value, 10, 64); err == nil && strconv.FormatInt(n, 10) == kv.Value {
			w.Int(kv.Key, n)
		} else {
			w.Str(kv.Key, kv.Value)
		}
	}
	w.End()
}

func (f *fakeBackend) MasterAddr(name string) (string, string, bool) {
	if f.AddrFn != nil {
		return f.AddrFn(name)
	}
	if name != "mymaster" {
		return "", "", false
	}
	return "127.0.0.1", "6379", true
}

func (f *fakeBackend) IsMasterDownByAddr(ip string, port int, epoch uint64, runid string) (bool, string, uint64) {
	if f.DownFn != nil {
		return f.DownFn(ip, port, epoch, runid)
	}
	return false, "*", 0
}

func (f *fakeBackend) Reset(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, pattern)
	if globMatch(pattern, "mymaster", false) {
		return 1
	}
	return 0
}

func (f *fakeBackend) Failover(name string) error {
	if f.FailFn != nil {
		return f.FailFn(name)
	}
	if name != "mymaster" {
		return ErrNoSuchMaster
	}
	return ReplyError("NOGOODSLAVE No suitable replica to promote") // replication.ErrNoGoodSlave's text
}

func (f *fakeBackend) CKQuorum(name string) (string, error) {
	if f.QuorumFn != nil {
		return f.QuorumFn(name)
	}
	if name != "mymaster" {
		return "", ErrNoSuchMaster
	}
	return "OK 1 usable Sentinels. Quorum and failover authorization can be reached", nil
}

func (f *fakeBackend) FlushConfig() error {
	if f.FlushFn != nil {
		return f.FlushFn()
	}
	return nil
}

func (f *fakeBackend) Monitor(name, host, port, quorum string) error {
	if f.MonitorFn != nil {
		return f.MonitorFn(name, host, port, quorum)
	}
	if _, ok := string2ll(quorum); !ok {
		return ReplyError("ERR Invalid quorum")
	}
	return nil
}

func (f *fakeBackend) Remove(name string) error {
	if f.RemoveFn != nil {
		return f.RemoveFn(name)
	}
	if name != "mymaster" {
		return ErrNoSuchMaster
	}
	return nil
}

func (f *fakeBackend) Set(name string, args []string) error {
	if f.SetFn != nil {
		return f.SetFn(name, args)
	}
	if name != "mymaster" {
		return ErrNoSuchMaster
	}
	return nil
}

func (f *fakeBackend) ConfigGet(patterns []string) Fields {
	if f.CfgGetFn != nil {
		return f.CfgGetFn(patterns)
	}
	pattern := patterns[0]
	all := Fields{{"resolve-hostnames", "no"}, {"announce-hostnames", "no"}, {"announce-ip", ""},
		{"announce-port", "0"}, {"sentinel-user", ""}, {"sentinel-pass", ""}}
	var out Fields
	for _, kv := range all {
		if globMatch(pattern, kv.Key, true) {
			out = append(out, kv)
		}
	}
	return out
}

func (f *fakeBackend) ConfigSet(args []string) error {
	if f.CfgSetFn != nil {
		return f.CfgSetFn(args)
	}
	return nil
}

func (f *fakeBackend) InfoCache(names []string) []InfoCacheMaster {
	if f.CacheFn != nil {
		return f.CacheFn(names)
	}
	var out []InfoCacheMaster
	for _, n := range names {
		if n == "mymaster" {
			out = append(out, InfoCacheMaster{Name: n, Entries: []InfoCacheEntry{{AgeMillis: 0}}})
		}
	}
	return out
}

func (f *fakeBackend) PendingScripts() []PendingScript {
	if f.ScriptsFn != nil {
		return f.ScriptsFn()
	}
	return nil
}

func (f *fakeBackend) SimulateFailure(flags []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.simFlags = flags
}

func (f *fakeBackend) Debug(args []string) (Fields, error) {
	if f.DebugFn != nil {
		return f.DebugFn(args)
	}
	if len(args) == 0 {
		return Fields{{"INFO-PERIOD", "10000"}, {"PING-PERIOD", "1000"}}, nil
	}
	return nil, nil
}

// SetMaintenance records the pause like the replicated state does (one
// known master, "mymaster").
func (f *fakeBackend) SetMaintenance(paused bool, names []string) error {
	for _, n := range names {
		if n != "mymaster" {
			return ErrNoSuchMaster
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(names) == 0 {
		f.pausedAll = paused
		if !paused {
			f.pausedMaster = false
		}
		return nil
	}
	f.pausedMaster = paused
	return nil
}

func (f *fakeBackend) Maintenance() (all bool, masters []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pausedMaster {
		masters = []string{"mymaster"}
	}
	return f.pausedAll, masters
}

func (f *fakeBackend) Hello(payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hellos = append(f.hellos, payload)
}

func (f *fakeBackend) InfoSentinel() []string {
	if f.InfoFn != nil {
		return f.InfoFn()
	}
	return []string{"sentinel_masters:1", "sentinel_tilt:0", "sentinel_tilt_since_seconds:-1",
		"sentinel_running_scripts:0", "sentinel_scripts_queue_length:0",
		"sentinel_simulate_failure_flags:0",
		"master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=0,sentinels=" + strconv.Itoa(1)}
}

func (f *fakeBackend) AfterMonitor(name string) {}
