package group

import (
	"testing"
)

// TestOneSentinelsStaleEntriesDoNotStopFormation: of three sentinels
// starting together, one also knows three sentinels that are gone (a
// migrated sentinel.conf's known-sentinel lines, or forged hellos), so its
// own size while forming is 6. The three still form a group: that size
// keeps it from proposing, and the size it tells the others counts the
// reachable ones only. Told to the others, who take the largest size
// they hear, it stopped all three from forming for good (3 of 6, 4
// needed); in redis-sentinel such entries raise only that sentinel's count
// of voters.
func TestOneSentinelsStaleEntriesDoNotStopFormation(t *testing.T) {
	// Converged: one leader, every sentinel a voter of its configuration.
	newConvergedCluster(t, 3, func(slots []*simSlot) {
		for _, s := range slots {
			s.expect = func(bool) Expectation { return Expectation{Size: 3, Source: SourceKnown} }
		}
		slots[0].expect = func(forming bool) Expectation {
			if forming {
				return Expectation{Size: 6, Source: SourceKnown}
			}
			return Expectation{Size: 3, Source: SourceKnown}
		}
	})
}
