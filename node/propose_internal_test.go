package node

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestForwardErrorRetriesOnlyWhatNeverEnteredTheLog: a forward the leader
// refused as not leading, or one never sent (the leader just died and its
// port refuses, so a follower still names it), is retried by
// proposeCommand until a new leader takes it; one that was sent and got
// no answer, or that lost leadership after it entered the log, may have
// committed and is not. A refused dial used to fail the command at once.
func TestForwardErrorRetriesOnlyWhatNeverEnteredTheLog(t *testing.T) {
	notSent := fmt.Errorf("peer rpc cluster.propose to x: %w (%w)", peer.ErrNotSent, errors.New("connect: connection refused"))
	for _, tc := range []struct {
		name  string
		err   error
		retry bool
	}{
		{"not leader", &peer.RemoteError{Msg: "not leader"}, false}, // a RemoteError without the code: unknown
		{"not leader, coded", fmt.Errorf("x: %w", quorum.ErrNotLeader), true},
		{"leadership lost", fmt.Errorf("x: %w", quorum.ErrLeadershipLost), false},
		{"never sent", notSent, true},
		{"no answer", fmt.Errorf("peer rpc: %w", context.DeadlineExceeded), false},
	} {
		if got := isTransient(forwardError("10.0.0.1:26379", tc.err)); got != tc.retry {
			t.Errorf("%s: retried %v, want %v", tc.name, got, tc.retry)
		}
	}
}

// A FAILOVER forwarded to the leader: the leader's own answer stands, a call
// that never left is retried with the next leader, and one that left and got
// no answer is reported as maybe started, never as NOQUORUM or OK.
func TestForwardedFailoverOutcome(t *testing.T) {
	notSent := fmt.Errorf("peer rpc cluster.failover to x: %w (%w)", peer.ErrNotSent, errors.New("connect: connection refused"))
	refused := &peer.RemoteError{Msg: "NOGOODSLAVE No suitable replica to promote"}
	for _, tc := range []struct {
		name    string
		err     error
		retried bool   // proposeCommand's test for a retry
		reply   string // what the client reads ("" for OK)
	}{
		{"the leader answered OK", nil, false, ""},
		{"the leader refused", refused, false, "NOGOODSLAVE No suitable replica to promote"},
		{"never sent: the leader's port refuses", notSent, true, ErrNoLeader.Error()},
		{"sent, then the deadline", fmt.Errorf("peer rpc cluster.failover: %w", context.DeadlineExceeded), false, errFailoverUnknown.Error()},
		{"sent, then the connection reset", fmt.Errorf("peer rpc cluster.failover: read: %w", syscall.ECONNRESET), false, errFailoverUnknown.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := forwardedFailoverOutcome(tc.err)
			if retried := errors.Is(got, peer.ErrNotSent) && errors.Is(got, ErrNoLeader); retried != tc.retried {
				t.Errorf("retried %v, want %v (%v)", retried, tc.retried, got)
			}
			reply := ""
			if got != nil {
				reply = replyError(got).Error()
			}
			if reply != tc.reply {
				t.Errorf("reply %q, want %q", reply, tc.reply)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("%v does not keep its cause %v", got, tc.err)
			}
		})
	}
}
