// Package metrics exports gosentinel's state to Prometheus (prometheus/
// client_golang): redis_exporter's sentinel families, the per-node
// families of the data nodes' INFO, and gosentinel's own (failovers, Raft,
// links), plus the health endpoints served on the same HTTP listener.
package metrics

import _ "github.com/prometheus/client_golang/prometheus"
