package replication

import (
	"errors"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// ReplyError is an error whose text is a RESP error reply as
// redis-sentinel sends it (code first, no "ERR" for these).
type ReplyError string

// Error returns the reply text.
func (e ReplyError) Error() string { return string(e) }

// Errors returned by Failover, with redis-sentinel's texts.
var (
	// ErrInProgress: a failover of the master is recorded or running
	// (the FSM's refusal, quorum.ErrFailoverInProgress, has the text).
	ErrInProgress = ReplyError(quorum.ErrFailoverInProgress.Error())
	// ErrNoGoodSlave: no replica can be promoted now.
	ErrNoGoodSlave = ReplyError("NOGOODSLAVE No suitable replica to promote")
)

// errRecordMissing is returned when a committed failover decision is not in
// the state right after the commit (the state moved on at once).
var errRecordMissing = errors.New("the committed failover is not the one recorded")

// ErrNotLeader is returned by Failover when the engine is not running (this
// sentinel does not lead).
var ErrNotLeader = errors.New("this sentinel is not the failover leader")
