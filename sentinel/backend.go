package sentinel

// Field is one key/value pair of a reply map, in the order redis-sentinel
// writes it. Values are always bulk strings on the wire (sentinel.c renders
// numbers as decimal bulk strings inside instance maps).
type Field struct {
	Key, Value string
}

// Fields is an ordered map: RESP3 map or RESP2 flat array.
type Fields []Field

// Get returns the value of key k and whether it is present.
func (f Fields) Get(k string) (string, bool) {
	for _, kv := range f {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return "", false
}

// ReplyError is an error whose text is written verbatim as a RESP error
// (without the leading '-'), e.g. "ERR No such master with that name" or
// "INPROG Failover already in progress". Backend methods return errors of
// any type; the command surface writes err.Error() as the error line, so a
// backend must phrase its errors exactly as redis-sentinel does.
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// Errors shared by several subcommands (sentinel.c wording).
const (
	ErrNoSuchMaster = ReplyError("ERR No such master with that name")
	ErrFlushConfig  = ReplyError("ERR Failed to save config file. Check server logs.")
)

// InfoCacheEntry is one instance of SENTINEL INFO-CACHE: the age of the
// cached INFO in milliseconds and the INFO text (Valid=false renders null).
type InfoCacheEntry struct {
	AgeMillis int64
	Info      string
	Valid     bool
}

// InfoCacheMaster is the INFO-CACHE reply part for one master: the master
// first, then each known replica.
type InfoCacheMaster struct {
	Name    string
	Entries []InfoCacheEntry
}

// PendingScript is one entry of SENTINEL PENDING-SCRIPTS.
type PendingScript struct {
	Argv    []string
	Running bool
	Pid     int
	// RunTimeMillis is set while running; RunDelayMillis otherwise.
	RunTimeMillis  int64
	RunDelayMillis int64
	RetryNum       int
}

// Backend is everything the command surface needs from the sentinel
// itself. The node package implements it; tests use fakes. Every method must
// be safe for concurrent use and must not block on the network for long
// (commands are answered from local state, as redis-sentinel does).
//
// The name given to Master, Replicas, Sentinels and MasterAddr is lent: its
// memory is reused for the next request once the call returns (see
// argsLentBy), so an implementation must copy it to keep it.
type Backend interface {
	// MyID is the 40-hex sentinel id (SENTINEL MYID).
	MyID() string

	// MasterNames lists the monitored masters in reply order (ROLE).
	MasterNames() []string
	// RenderMasters writes SENTINEL MASTERS: the number of masters, then
	// one instance map per master. The four Render methods write straight
	// into the reply (see MapWriter); each returns its error before
	// writing anything.
	RenderMasters(w MapWriter)
	// RenderMaster writes SENTINEL MASTER <name>: one instance map.
	RenderMaster(name string, w MapWriter) error
	// RenderReplicas writes SENTINEL REPLICAS/SLAVES <name>.
	RenderReplicas(name string, w MapWriter) error
	// RenderSentinels writes SENTINEL SENTINELS <name> (the other
	// sentinels).
	RenderSentinels(name string, w MapWriter) error
	// MasterAddr answers GET-MASTER-ADDR-BY-NAME; ok=false renders null.
	MasterAddr(name string) (host, port string, ok bool)
	// IsMasterDownByAddr answers SENTINEL IS-MASTER-DOWN-BY-ADDR. port and
	// epoch are already validated integers.
	IsMasterDownByAddr(ip string, port int, epoch uint64, runid string) (down bool, leader string, leaderEpoch uint64)

	// Reset answers SENTINEL RESET <pattern> with the number of matches.
	Reset(pattern string) int
	// Failover starts a manual failover (SENTINEL FAILOVER).
	Failover(name string) error
	// CKQuorum returns the status text ("OK 3 usable Sentinels. ...") or a
	// ReplyError starting with NOQUORUM.
	CKQuorum(name string) (string, error)
	// FlushConfig rewrites the config file (SENTINEL FLUSHCONFIG).
	FlushConfig() error
	// Monitor adds a master: the raw arguments of SENTINEL MONITOR; the
	// backend validates them in redis-sentinel's order.
	Monitor(name, host, port, quorum string) error
	// AfterMonitor runs once a successful MONITOR's reply is queued:
	// redis-sentinel announces +monitor after replying (REMOVE announces
	// -monitor before), and a RESP3 client subscribed on the same
	// connection sees that order.
	AfterMonitor(name string)
	// Remove deletes a master (SENTINEL REMOVE).
	Remove(name string) error
	// Set applies SENTINEL SET <name> <opt> <val> ... (args = everything
	// after the name).
	Set(name string, args []string) error
	// ConfigGet answers SENTINEL CONFIG GET <pattern> [<pattern> ...]
	// (one pattern in the 7.0 profile).
	ConfigGet(patterns []string) Fields
	// ConfigSet answers SENTINEL CONFIG SET <param> <value> [<param>
	// <value> ...] (one pair in the 7.0 profile); args are what follows
	// SET, possibly one short of pairs.
	ConfigSet(args []string) error
	// InfoCache answers SENTINEL INFO-CACHE for the given names (unknown
	// names skipped).
	InfoCache(names []string) []InfoCacheMaster
	// PendingScripts answers SENTINEL PENDING-SCRIPTS.
	PendingScripts() []PendingScript
	// SimulateFailure sets the SIMULATE-FAILURE flags (already validated:
	// each is "crash-after-election" or "crash-after-promotion", lower case).
	SimulateFailure(flags []string)
	// Debug answers SENTINEL DEBUG: with no args the current timing table,
	// with args it sets them (errors in sentinel.c wording).
	Debug(args []string) (Fields, error)
	// SetMaintenance answers SENTINEL MAINTENANCE ON|OFF [<master-name>
	// ...], a subcommand of gosentinel's own: it pauses (paused) or resumes
	// automatic failovers of the named masters, or with no names of the
	// whole set; an unknown name is ErrNoSuchMaster and changes nothing.
	SetMaintenance(paused bool, names []string) error
	// Maintenance answers SENTINEL MAINTENANCE [STATUS]: the group-wide
	// pause and the masters paused by name.
	Maintenance() (all bool, masters []string)

	// Hello processes a hello received through PUBLISH __sentinel__:hello.
	Hello(payload string)
	// InfoSentinel returns the lines of INFO's "# Sentinel" section after the
	// header, each without the trailing CRLF.
	InfoSentinel() []string
	// InfoSection returns a section of INFO that redis-sentinel does not
	// have (name lower case), header and CRLF-ended lines included, and
	// whether it exists. INFO shows it only when asked for it by name.
	InfoSection(name string) (string, bool)
}
