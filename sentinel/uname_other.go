//go:build !linux

package sentinel

import "runtime"

// osString is INFO's os field.
func osString() string { return runtime.GOOS + " " + runtime.GOARCH }
