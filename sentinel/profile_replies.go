package sentinel

import (
	"strconv"
	"strings"

	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// What differs between the profiles in the replies themselves, as data:
// INFO's fields and the error texts that changed.

// infoField is one INFO field a profile adds: its name and value.
type infoField struct {
	name  string
	value func(s *Server) any
}

// profileInfo is how a profile's INFO differs from 7.0.15's (infoSection
// writes 7.0.15's fields): fields inserted after a 7.0.15 field, and 7.0.15
// fields whose value differs. Captured from redis-sentinel 8.0.2's INFO.
type profileInfo struct {
	after map[string][]infoField
	// linesAfter inserts whole "name:value" lines after a 7.0.15 field,
	// as many as the server's setup gives (8.0's listeners).
	linesAfter map[string]func(s *Server) []string
	replace    map[string]func(s *Server) any
}

func zero(*Server) any { return 0 }

// infoFields holds each profile's INFO differences (none for 7.0).
var infoFields = map[compat.Profile]profileInfo{
	compat.V80: {
		after: map[string][]infoField{
			"tracking_clients": {
				{"pubsub_clients", func(s *Server) any { return s.pubsubClients() }},
				{"watching_clients", zero},
			},
			"clients_in_timeout_table": {
				{"total_watched_keys", zero}, {"total_blocking_keys", zero}, {"total_blocking_keys_on_nokey", zero},
			},
			"sync_partial_err": {{"expired_subkeys", zero}},
			"evicted_clients":  {{"evicted_scripts", zero}},
			"io_threaded_writes_processed": {
				{"client_query_buffer_limit_disconnections", zero}, {"client_output_buffer_limit_disconnections", zero},
			},
			// There is no single event loop to time (each client has its
			// goroutine): its counters stay 0.
			"reply_buffer_expands": {
				{"eventloop_cycles", zero}, {"eventloop_duration_sum", zero}, {"eventloop_duration_cmd_sum", zero},
				{"instantaneous_eventloop_cycles_per_sec", zero}, {"instantaneous_eventloop_duration_usec", zero},
				{"acl_access_denied_auth", func(s *Server) any { return s.aclDenied(aclDeniedAuth) }},
				{"acl_access_denied_cmd", func(s *Server) any { return s.aclDenied(aclDeniedCmd) }},
				{"acl_access_denied_key", func(s *Server) any { return s.aclDenied(aclDeniedKey) }},
				{"acl_access_denied_channel", func(s *Server) any { return s.aclDenied(aclDeniedChannel) }},
			},
		},
		linesAfter: map[string]func(s *Server) []string{"io_threads_active": (*Server).listenerLines},
		replace: map[string]func(s *Server) any{
			// 8.0 reads queries into a shared buffer: no client keeps one.
			"client_recent_max_input_buffer": zero,
		},
	},
}

// listenerLines are 8.0's listener lines (connection.c,
// getListensInfoString): one per kind of listener open, numbered by the
// kind's index (0 tcp, 1 unix, 2 tls), the TCP and TLS ones with the bind
// addresses (redis' default "* -::*" when none is configured) and port, the
// unix one with its path.
func (s *Server) listenerLines() []string {
	bind := s.cfg.Bind
	if len(bind) == 0 {
		bind = []string{"*", "-::*"}
	}
	withBinds := func(head string, port int) string {
		var b strings.Builder
		b.WriteString(head)
		for _, a := range bind {
			b.WriteString(",bind=" + a)
		}
		b.WriteString(",port=" + strconv.Itoa(port))
		return b.String()
	}
	var out []string
	if s.cfg.Port != 0 {
		out = append(out, withBinds("listener0:name=tcp", s.cfg.Port))
	}
	if s.cfg.UnixSocket != "" {
		out = append(out, "listener1:name=unix,bind="+s.cfg.UnixSocket)
	}
	if s.cfg.TLSPort != 0 {
		out = append(out, withBinds("listener2:name=tls", s.cfg.TLSPort))
	}
	return out
}

// tcpPort is INFO's tcp_port: the port, else the TLS port (server.c).
func (s *Server) tcpPort() int {
	if s.cfg.Port != 0 {
		return s.cfg.Port
	}
	return s.cfg.TLSPort
}

// pubsubClients counts clients with at least one subscription.
func (s *Server) pubsubClients() int {
	s.psmu.Lock()
	defer s.psmu.Unlock()
	seen := map[*client]bool{}
	for _, cs := range s.channels {
		for _, c := range cs {
			seen[c] = true
		}
	}
	for _, cs := range s.patterns {
		for _, c := range cs {
			seen[c] = true
		}
	}
	return len(seen)
}

// aclDenied is how many denials of reason the ACL log has counted.
func (s *Server) aclDenied(reason aclResult) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acl.denied[reason]
}

// errHelloNoAuth is HELLO's reply before authentication, per profile: 7.2
// added "<proto>" to the hint.
var errHelloNoAuth = map[compat.Profile]string{
	compat.V70: "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
	compat.V80: "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
}
