package node

import (
	"fmt"

	"github.com/x0tta6bl4/gosentinel/internal/fdlimit"
)

// fitMaxClients fits the configured maxclients to the open files limit
// as redis does at its start, with redis' log lines (internal/fdlimit),
// and stops the start as redis does when the limit leaves no room for a
// client.
func (n *Node) fitMaxClients(requested int) (int, error) {
	cur, ceiling, raise, err := fdlimit.Current()
	if err != nil {
		n.log.Warn(fmt.Sprintf("Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the max clients configuration accordingly.", err))
		return min(requested, 1024-fdlimit.Reserved), nil
	}
	// The metrics listener's connections are not clients: they come out
	// of the descriptors kept from them.
	reserved := fdlimit.Reserved
	if n.mx != nil && n.mx.ln != nil {
		reserved += metricsMaxConns
	}
	maxClients, lines, notice, err := fdlimit.Fit(requested, reserved, cur, ceiling, raise)
	if err != nil {
		n.log.Warn(err.Error())
		return 0, fmt.Errorf("%w: %w", ErrReported, err)
	}
	for _, l := range lines {
		if notice {
			n.log.Info(l)
		} else {
			n.log.Warn(l)
		}
	}
	return maxClients, nil
}
