package quorum

import "time"

// IsStale reports whether a sentinel that last heard from a Raft leader at
// lastContact (RaftStore.LastContact: now on the leader itself) can no
// longer vouch for its replicated state at now, given the bound. A zero
// lastContact (never heard from a leader) is stale; a bound <= 0 disables
// the check. Pure, in the style of rqlite's IsStaleRead, so the read path
// and its tests need no clock.
func IsStale(lastContact, now time.Time, bound time.Duration) bool {
	if bound <= 0 {
		return false
	}
	if lastContact.IsZero() {
		return true
	}
	return now.Sub(lastContact) > bound
}
