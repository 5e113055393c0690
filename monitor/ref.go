package monitor

import "strconv"

// String renders the ref as sentinelEvent's %@ does:
// "<kind> <name> <ip> <port>" plus " @ <master> <mip> <mport>" for replicas
// and sentinels.
func (r Ref) String() string {
	s := string(r.Kind) + " " + r.Name + " " + r.Addr.Host + " " + strconv.Itoa(r.Addr.Port)
	if r.Kind != KindMaster {
		s += " @ " + r.Master + " " + r.MasterAddr.Host + " " + strconv.Itoa(r.MasterAddr.Port)
	}
	return s
}
