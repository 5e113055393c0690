package node

import "github.com/x0tta6bl4/gosentinel/quorum"

// A name can stand for two masters one after the other: the group removes
// it and monitors another node under it (SENTINEL REMOVE, then MONITOR
// elsewhere). A sentinel that was away meanwhile, or that a snapshot caught
// up, must watch the new record afresh, as OpMonitor's apply does, and not
// take it for a failover of the old one: a switch announces
// +switch-master, runs the client-reconfig-script, and carries the old
// master over as a replica, which a leader then reconfigures to replicate
// the new one (SLAVEOF, its data replaced).

// otherRecord tells whether the group's record of a name (group) is another
// master than the one this sentinel knew under it (known), rather than the
// same one moved by failovers. recreated says the group recreated the
// record while this sentinel caught up (noteCatchUp, recreatedRecords).
// Without that word, the epochs decide. A failover always raises the
// master's config epoch, and each epoch is one failover's: a group record
// at the epoch this sentinel knew, not 0, is that failover's master (the
// promotion records the epoch before the switch moves the address, and a
// sentinel restarted in between wrote the epoch with the old address). A
// record with a lower epoch, or both at 0 (neither failed over, at two
// addresses: SENTINEL MONITOR starts a record at 0), is another.
func otherRecord(known, group *quorum.Master, recreated bool) bool {
	return recreated || group.ConfigEpoch < known.ConfigEpoch || group.ConfigEpoch == 0 && known.ConfigEpoch == 0
}

// recreatedRecords names the masters a snapshot recreated: present before
// and after under the same name, created by another MONITOR (CreatedAt).
func recreatedRecords(before, after *quorum.State) []string {
	var names []string
	if before == nil || after == nil {
		return nil
	}
	for name, b := range before.Masters {
		if a, ok := after.Masters[name]; ok && a.CreatedAt != b.CreatedAt {
			names = append(names, name)
		}
	}
	return names
}

// noteRecreated remembers, for a member of a previous run not yet active,
// the masters the group recreated while it was away.
func (c *cluster) noteRecreated(names ...string) {
	if len(names) == 0 || !c.wasRestarted() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		c.caughtUp.recreate(name)
	}
}

// catchUp follows the commands a member of a previous run applies beyond
// its own log before its activation (the group committed them while it was
// away): a MONITOR of a name a REMOVE dropped earlier in that catch-up
// recreated the name's record. A MONITOR alone is not enough: a member that
// lost its Raft directory but kept its sentinel.conf catches up from the
// group's first entry, every master's first MONITOR included.
type catchUp struct {
	removed, recreated map[string]bool
}

func (u *catchUp) note(cmd *quorum.Command) {
	switch {
	case cmd.Op == quorum.OpRemove:
		if u.removed == nil {
			u.removed = map[string]bool{}
		}
		u.removed[cmd.Name] = true
	case cmd.Op == quorum.OpMonitor && cmd.Master != nil && u.removed[cmd.Master.Name]:
		u.recreate(cmd.Master.Name)
	}
}

// recreate notes that the group recreated name's record.
func (u *catchUp) recreate(name string) {
	if u.recreated == nil {
		u.recreated = map[string]bool{}
	}
	u.recreated[name] = true
}

// noteCatchUp sees a command applied before activation: one beyond this
// member's own log (not Recovering), of a member of a previous run, goes to
// its catchUp.
func (c *cluster) noteCatchUp(cmd *quorum.Command, result error) {
	if result != nil || cmd.Op != quorum.OpMonitor && cmd.Op != quorum.OpRemove {
		return
	}
	c.mu.Lock()
	st := c.store
	c.mu.Unlock()
	if st == nil || st.Recovering() || !c.wasRestarted() {
		return
	}
	c.mu.Lock()
	c.caughtUp.note(cmd)
	c.mu.Unlock()
}
