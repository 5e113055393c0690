package config

import (
	"fmt"
	"strings"
)

// FatalError is a config error that makes redis exit 1 at startup.
type FatalError struct {
	File   string // the config file path ("" for Parse without a name)
	Line   int    // 1-based line in the loaded text; 0 when the error is not tied to a line
	Text   string // the offending line, trimmed as redis prints it
	Reason string // redis' message, e.g. "Bad directive or wrong number of arguments"
}

// Error returns a first line naming the file, then redis' fatal config block, so that printing
// it to stderr shows exactly what redis-sentinel would print.
func (e *FatalError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "gosentinel: config file %s, line %d: %s\n", e.File, e.Line, e.Reason)
	} else {
		fmt.Fprintf(&b, "gosentinel: config file %s: %s\n", e.File, e.Reason)
	}
	b.WriteString(e.RedisBlock())
	return strings.TrimSuffix(b.String(), "\n")
}

// RedisBlock renders the block redis writes to stderr (config.c:loadServerConfigFromString,
// sentinel.c:loadSentinelConfigFromQueue), including its leading and trailing newline.
func (e *FatalError) RedisBlock() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n", RedisVersion)
	if e.Line > 0 {
		fmt.Fprintf(&b, "Reading the configuration file, at line %d\n", e.Line)
		fmt.Fprintf(&b, ">>> '%s'\n", e.Text)
	}
	fmt.Fprintf(&b, "%s\n", e.Reason)
	return b.String()
}

// LogLevelError is the fatal config error of the loglevel line for a level
// the profile lacks ("nothing" under 7.0, whose file redis-sentinel 7.0.15
// refuses with its table's values).
func (c *Config) LogLevelError() *FatalError {
	return &FatalError{File: c.Path, Line: c.logLevelSource.line, Text: c.logLevelSource.text,
		Reason: lookupStdConfig("loglevel").enumError()}
}
