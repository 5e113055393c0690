package sentinel

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes a child process get SIGKILL if the test binary dies
// (e.g. on a test timeout, when Cleanup functions do not run).
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
