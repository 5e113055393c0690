// Package metrics exports gosentinel's state to Prometheus (prometheus/
// client_golang, a registry of its own): redis_exporter's sentinel
// families with its names, labels and values, the per-node families of
// the data nodes' INFO, and gosentinel's own (failovers, Raft, links),
// plus the health endpoints served on the same HTTP listener (/healthz,
// /readyz, /primary, /replica).
//
// State is read at scrape time from a Source (implemented by node, which
// this package does not import); events (failovers and their phases,
// failovers not started) are counted through replication.Observer, which
// Metrics implements. families.go is the one list of the families.
package metrics
