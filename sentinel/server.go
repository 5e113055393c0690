package sentinel

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/acceptloop"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// Config configures a Server.
type Config struct {
	// Backend answers the SENTINEL subcommands, ROLE, INFO's Sentinel
	// section and hello messages received through PUBLISH.
	Backend Backend
	// RequirePass is the `requirepass` directive; HasRequirePass tells an
	// empty password from an unset one. It sets the default user's password.
	RequirePass    string
	HasRequirePass bool
	// Users holds the arguments of each `user` config line (user name
	// first, then ACL rules), applied after requirepass like redis does.
	Users [][]string
	// ACLFile is the aclfile directive: the users are loaded from it at
	// start (then Users must be empty, as in redis) and by ACL LOAD, and
	// ACL SAVE writes them there.
	ACLFile string
	// RunID is INFO's run_id (new for every process).
	RunID string
	// Port is the port directive: INFO's tcp_port, and 8.0's listener0
	// (none when 0).
	Port int
	// TLSPort is the tls-port directive: INFO's tcp_port when Port is 0
	// (redis prints port ? port : tls_port), and 8.0's listener2.
	TLSPort int
	// UnixSocket is the unixsocket directive's path, for 8.0's listener1.
	UnixSocket string
	// Bind is the bind directive's addresses, for INFO's listener0 (8.0
	// profile); empty is redis' default.
	Bind []string
	// ConfiguredHz is INFO's configured_hz, the config's hz as redis
	// applies it (config.Config.Hz); 0 is redis' default, 10.
	ConfiguredHz int
	// ConfigFile and Executable are INFO's config_file and executable.
	ConfigFile string
	Executable string
	// Compat is the redis-sentinel version to behave as (command table,
	// HELP texts, SENTINEL CONFIG, the version INFO and HELLO report);
	// empty is compat.Default.
	Compat compat.Profile
	// CommandRenames is what the config's rename-command lines change
	// (config.CommandRenames): a lower-case name mapped to the command it
	// now runs, or to "" where it runs none. A request is looked up
	// through it, and so are ACL DRYRUN's and COMMAND GETKEYS'; ACL rules,
	// COMMAND's listings and the HELP texts keep the commands' own names.
	CommandRenames map[string]string
	// OnShutdown is called (on its own goroutine) when a client runs a valid
	// SHUTDOWN: the node exits.
	OnShutdown func()
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// MaxClients is maxclients, fitted to the open files limit
	// (internal/fdlimit); 0 is redis' default.
	MaxClients int
}

// defaultMaxClients is redis' default maxclients.
const defaultMaxClients = 10000

// firstClientID is the id of the first connection: redis-sentinel 7.0
// creates two internal clients at startup, so clients start at 3.
const firstClientID = 3

// Server is the RESP command surface of the sentinel: it accepts client
// connections and answers them like redis-sentinel 7.0 does.
type Server struct {
	cfg Config
	tbl *commandTable // the profile's command table
	log *slog.Logger
	// securityLogged is when the cross-protocol warning was last logged
	// (unix seconds; securityWarning).
	securityLogged atomic.Int64
	started        time.Time
	done           chan struct{}

	mu              sync.Mutex
	clients         map[uint64]*client
	draining        map[*client]struct{} // gone clients still flushing output
	nextClientID    uint64
	listeners       map[net.Listener]struct{}
	closed          bool
	acl             *aclState
	pause           pauseState
	trackingClients int

	psmu     sync.Mutex
	channels map[string][]*client
	patterns map[string][]*client
	patOrder orderedSet // the patterns subscribed, in the order first subscribed

	stats serverStats
	ops   opsSampler
	wg    sync.WaitGroup

	// maxClients is the connection limit (maxclients).
	maxClients int
	// maxPause caps CLIENT PAUSE durations when set (tests only).
	maxPause time.Duration
}

// serverStats are the counters INFO and Stats report.
type serverStats struct {
	connections  atomic.Int64
	rejected     atomic.Int64
	commands     atomic.Int64
	errorReplies atomic.Int64
	netInput     atomic.Int64
	netOutput    atomic.Int64
	reads        atomic.Int64
	writes       atomic.Int64
}

// Stats is a snapshot of the server's counters, for metrics. The names
// follow INFO's fields.
type Stats struct {
	ConnectedClients    int   // connected_clients
	BlockedClients      int   // blocked_clients (held by CLIENT PAUSE)
	TotalConnections    int64 // total_connections_received
	RejectedConnections int64 // rejected_connections (maxclients)
	TotalCommands       int64 // total_commands_processed
	TotalErrorReplies   int64 // total_error_replies
	PubsubChannels      int   // pubsub_channels
	PubsubPatterns      int   // pubsub_patterns
	NetInputBytes       int64 // total_net_input_bytes
	NetOutputBytes      int64 // total_net_output_bytes
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("sentinel: server closed")

// NewServer validates cfg and builds a server. It fails on invalid `user`
// lines, with redis' error texts.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("sentinel: Config.Backend is required")
	}
	if cfg.Compat == "" {
		cfg.Compat = compat.Default
	}
	tbl := tableOf(cfg.Compat)
	if tbl == nil {
		return nil, fmt.Errorf("sentinel: unknown compatibility profile %q", cfg.Compat)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	acl := newACLState(tbl)
	if cfg.HasRequirePass {
		acl.setDefaultPassword(cfg.RequirePass)
	}
	if err := acl.loadUserLines(cfg.Users); err != nil {
		return nil, fmt.Errorf("sentinel: %w", err)
	}
	var fileUsers map[string]*aclUser
	if cfg.ACLFile != "" {
		if len(cfg.Users) > 0 {
			return nil, errors.New(errACLFileAndUsers)
		}
		users, errs := parseACLFile(tbl, cfg.ACLFile)
		if errs != "" {
			return nil, fmt.Errorf("Aborting Redis startup because of ACL errors: %s", errs)
		}
		fileUsers = users
	}
	srv := &Server{
		cfg:          cfg,
		tbl:          tbl,
		log:          logger,
		started:      time.Now(),
		done:         make(chan struct{}),
		clients:      map[uint64]*client{},
		draining:     map[*client]struct{}{},
		nextClientID: firstClientID,
		listeners:    map[net.Listener]struct{}{},
		acl:          acl,
		channels:     map[string][]*client{},
		patterns:     map[string][]*client{},
		maxClients:   cmp.Or(cfg.MaxClients, defaultMaxClients),
	}
	if fileUsers != nil {
		srv.installUsersLocked(nil, fileUsers) // no client yet
	}
	return srv, nil
}

// Serve accepts connections on ln until Close is called (it then returns
// nil) or ln fails. ln may be any listener, e.g. a mux sub-listener; Close
// closes it. Serve on a closed server closes ln and returns
// ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff acceptloop.Backoff
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			wait, ok := backoff.Retry(err)
			if !ok {
				return fmt.Errorf("sentinel: accept: %w", err)
			}
			// redis' text; at most one a wait (5 ms doubling to 1 s).
			s.log.Warn("Accepting client connection: " + err.Error())
			time.Sleep(wait)
			continue
		}
		backoff.Accepted()
		s.accept(conn)
	}
}

// MaxClients is maxclients.
func (s *Server) MaxClients() int { return s.maxClients }

// Clients is how many clients are connected (what maxclients counts).
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// accept registers a new connection and starts its goroutines.
func (s *Server) accept(conn net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	if len(s.clients) >= s.maxClients {
		s.stats.rejected.Add(1)
		s.mu.Unlock()
		acceptloop.RefuseMaxClients(conn)
		return
	}
	now := time.Now()
	raw, readBuf := socketOf(conn)
	addr, laddr := addrString(conn.RemoteAddr()), addrString(conn.LocalAddr())
	ua, unix := conn.LocalAddr().(*net.UnixAddr)
	if unix {
		// genClientAddrString: the server's socket path, port 0, for both,
		// in a buffer of NET_ADDR_STR_LEN (78) bytes.
		addr = ua.Name + ":0"
		if len(addr) > 77 {
			addr = addr[:77]
		}
		laddr = addr
	}
	c := &client{
		srv:             s,
		conn:            conn,
		id:              s.nextClientID,
		addr:            addr,
		laddr:           laddr,
		unix:            unix,
		fd:              connFD(raw),
		raw:             raw,
		readBuf:         readBuf,
		ctime:           now,
		out:             newOutbuf(),
		killCh:          make(chan struct{}),
		user:            s.acl.defaultUser,
		lastInteraction: now,
		lastCmd:         "NULL",
	}
	c.rawWrite = c.writeOnce
	c.rawRead = c.readOnce
	c.resp.Store(2)
	c.authenticated = s.acl.defaultUser.flags&userNopass != 0 && s.acl.defaultUser.flags&userOff == 0
	s.nextClientID++
	s.clients[c.id] = c
	s.stats.connections.Add(1)
	s.wg.Add(2)
	s.mu.Unlock()
	go c.writeLoop()
	go c.serve()
}

// addrString renders an address like redis' "ip:port" ("[ip6]:port").
func addrString(a net.Addr) string {
	if a == nil {
		return "?:0"
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		ip := tcp.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
	}
	return a.String()
}

// Close stops all listeners, disconnects every client and waits for the
// connection goroutines to end. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	var errs []error
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	clients := make([]*client, 0, len(s.clients)+len(s.draining))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	for c := range s.draining {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		c.kill()
	}
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sentinel: close listeners: %w", err)
	}
	return nil
}

// RequirePass returns the configured requirepass (for the config rewrite;
// like redis, ACL changes to the default user do not alter it).
func (s *Server) RequirePass() (string, bool) {
	return s.cfg.RequirePass, s.cfg.HasRequirePass
}

// ACLUserLines returns every user as the arguments of a `user` config line
// (name first), in ACL LIST order, e.g.
// {"default", "on", "nopass", "~*", "&*", "+@all"}.
func (s *Server) ACLUserLines() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]string
	for _, u := range s.acl.sortedUsers() {
		out = append(out, append([]string{u.name}, u.describe()...))
	}
	return out
}

// Stats returns a snapshot of the server counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{ConnectedClients: len(s.clients)}
	for _, c := range s.clients {
		if c.blocked {
			st.BlockedClients++
		}
	}
	s.mu.Unlock()
	s.psmu.Lock()
	st.PubsubChannels = len(s.channels)
	st.PubsubPatterns = len(s.patterns)
	s.psmu.Unlock()
	st.TotalConnections = s.stats.connections.Load()
	st.RejectedConnections = s.stats.rejected.Load()
	st.TotalCommands = s.stats.commands.Load()
	st.TotalErrorReplies = s.stats.errorReplies.Load()
	st.NetInputBytes = s.stats.netInput.Load()
	st.NetOutputBytes = s.stats.netOutput.Load()
	return st
}
