//go:build !linux

package sentinel

import "os/exec"

func dieWithTest(cmd *exec.Cmd) {}
