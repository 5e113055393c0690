package strerror

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "Success"},
		{syscall.ENOENT, "No such file or directory"},
		{syscall.EPERM, "Operation not permitted"},
		{&os.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, "Permission denied"},
		{os.NewSyscallError("bind", syscall.EADDRINUSE), "Address already in use"},
		{fmt.Errorf("wrapped: %w", syscall.ENOTDIR), "Not a directory"},
		{errors.New("no errno here"), "no errno here"},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
