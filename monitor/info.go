package monitor

import (
	"strings"
	"time"
)

// Info is what sentinelRefreshInstanceInfo reads from an INFO reply. Fields
// a reply did not contain keep their zero value and a false Has* flag, so
// the caller can keep its previous value the way redis-sentinel does.
type Info struct {
	// RunID is the 40 characters after "run_id:" ("" if absent).
	RunID string
	// Role is "master" or "slave" from the role: line, "" if there is none.
	Role string
	// Replicas lists the slave<N>: lines in order, both the
	// "ip=..,port=.." and the old "<ip>,<port>,<state>" format. A port that
	// is not a number reads as 0, as atoi does.
	Replicas []Addr
	// MasterLinkDownTime is master_link_down_since_seconds × 1 s, 0 if the
	// line is absent (it is -1 s while a replica never connected).
	MasterLinkDownTime time.Duration
	// MasterReplOffset is master_repl_offset.
	MasterReplOffset    int64
	HasMasterReplOffset bool

	// The following are only read after a role:slave line.
	MasterHost          string
	HasMasterHost       bool
	MasterPort          int
	HasMasterPort       bool
	MasterLinkUp        bool // master_link_status:up
	HasMasterLinkStatus bool
	SlavePriority       int
	HasSlavePriority    bool
	SlaveReplOffset     int64
	HasSlaveReplOffset  bool
	ReplicaAnnounced    bool
	HasReplicaAnnounced bool
}

// ParseInfo parses an INFO reply with the same line tests as
// sentinelRefreshInstanceInfo (prefix matches, atoi/strtoll leniency).
//
// The strings it returns are copies, not parts of text: an instance keeps
// its run id and its master's host for as long as they do not change, and
// a part would keep the whole INFO reply it came from alive with them (at
// 1000 masters, a second INFO text per instance).
func ParseInfo(text string) Info {
	var in Info
	role := ""
	for l := range strings.SplitSeq(text, "\r\n") {
		if len(l) >= 47 && strings.HasPrefix(l, "run_id:") {
			in.RunID = strings.Clone(l[7:47])
		}
		if len(l) >= 7 && strings.HasPrefix(l, "slave") && isDigit(l[5]) {
			if a, ok := parseReplicaLine(l); ok {
				in.Replicas = append(in.Replicas, a)
			}
		}
		if len(l) >= 32 && strings.HasPrefix(l, "master_link_down_since_seconds") {
			in.MasterLinkDownTime = time.Duration(atoi64(l[31:])) * time.Second
		}
		if strings.HasPrefix(l, "master_repl_offset:") {
			in.MasterReplOffset = atoi64(l[len("master_repl_offset:"):])
			in.HasMasterReplOffset = true
		}
		switch {
		case strings.HasPrefix(l, "role:master"):
			role = "master"
		case strings.HasPrefix(l, "role:slave"):
			role = "slave"
		}
		if role != "slave" {
			continue
		}
		switch {
		case strings.HasPrefix(l, "master_host:"):
			in.MasterHost, in.HasMasterHost = strings.Clone(l[12:]), true
		case strings.HasPrefix(l, "master_port:"):
			in.MasterPort, in.HasMasterPort = int(atoi64(l[12:])), true
		case strings.HasPrefix(l, "master_link_status:"):
			in.MasterLinkUp, in.HasMasterLinkStatus = strings.EqualFold(l[19:], "up"), true
		case strings.HasPrefix(l, "slave_priority:"):
			in.SlavePriority, in.HasSlavePriority = int(atoi64(l[15:])), true
		case strings.HasPrefix(l, "slave_repl_offset:"):
			in.SlaveReplOffset, in.HasSlaveReplOffset = atoi64(l[18:]), true
		case strings.HasPrefix(l, "replica_announced:"):
			in.ReplicaAnnounced, in.HasReplicaAnnounced = atoi64(l[18:]) != 0, true
		}
	}
	in.Role = role
	return in
}

// parseReplicaLine reads "slaveN:ip=<ip>,port=<port>,..." or the old
// "slaveN:<ip>,<port>,<state>".
func parseReplicaLine(l string) (Addr, bool) {
	if !strings.Contains(l, "ip=") {
		_, rest, ok := strings.Cut(l, ":")
		if !ok {
			return Addr{}, false
		}
		ip, rest, ok := strings.Cut(rest, ",")
		if !ok {
			return Addr{}, false
		}
		port, _, ok := strings.Cut(rest, ",")
		if !ok {
			return Addr{}, false
		}
		return Addr{Host: strings.Clone(ip), Port: int(atoi64(port))}, true
	}
	i := strings.Index(l, "ip=")
	j := strings.Index(l, "port=")
	if j < 0 {
		return Addr{}, false
	}
	ip, _, _ := strings.Cut(l[i+3:], ",")
	port, _, _ := strings.Cut(l[j+5:], ",")
	return Addr{Host: strings.Clone(ip), Port: int(atoi64(port))}, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// atoi64 parses like C's strtoll: optional leading spaces and sign, then
// digits up to the first non-digit; 0 when there are none. It saturates
// instead of overflowing.
func atoi64(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := int64(s[i] - '0')
		if n > (1<<63-1-d)/10 {
			n = 1<<63 - 1
			break
		}
		n = n*10 + d
	}
	if neg {
		return -n
	}
	return n
}

// atou64 parses like C's strtoull for the non-negative values we expect
// (epochs); a leading '-' yields 0 rather than wrapping around.
func atou64(s string) uint64 {
	n := atoi64(s)
	if n < 0 {
		return 0
	}
	return uint64(n)
}
