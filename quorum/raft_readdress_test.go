package quorum

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestRaftStore_ReaddressWhileReplicating re-addresses a follower in place
// (AddVoter with its id at another address, as the group does when a
// sentinel comes back with a new IP) again and again while the leader
// replicates commands to it. hashicorp/raft v1.7.3 rewrote the follower's
// replication record under a lock that its replication goroutine did not
// take when reading it back (upstream issue #681); under -race this test
// reported that race, which the patched copy in third_party/raft removes.
func TestRaftStore_ReaddressWhileReplicating(t *testing.T) {
	a, b, c := newInmemNode(t, "a", 0), newInmemNode(t, "b", 0), newInmemNode(t, "c", 0)
	connectAll(a, b, c)
	// c answers at a second address too, so that replication to it goes on
	// whichever of the two the configuration names.
	alt := raft.ServerAddress("c-alt-addr")
	a.trans.Connect(alt, c.trans)
	b.trans.Connect(alt, c.trans)
	bootstrapLed(t, a, b, c)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a steady stream of commands, each acknowledged by a follower
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			_ = a.store.Propose(pctx, monitorCmd(fmt.Sprintf("m%d", i%8), 7000+i%8, int64(i)))
			pcancel()
		}
	}()
	addrs := []string{string(alt), string(c.trans.LocalAddr())}
	for i := 0; i < 200; i++ {
		if err := a.store.AddVoter("c", addrs[i%2]); err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("re-address %d: %v", i, err)
		}
	}
	cancel()
	wg.Wait()
	got, err := a.store.Servers()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].ID != "c" || got[2].Addr != addrs[1] {
		t.Fatalf("configuration after the re-addressing: %v", got)
	}
}
