package node

import (
	"context"
	"errors"
	"fmt"
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
