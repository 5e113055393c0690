// Package strerror gives an error the text C's strerror gives its errno,
// the text redis prints ("No such file or directory"): Go's own texts for
// the errnos are the same strings with a lower-case first letter. The
// config loader, the ACL file, maxclients' fitting and the unixsocket print
// it where redis does.
package strerror

import (
	"errors"
	"syscall"
)

// Of is strerror(errno) for the errno inside err; the text of an error
// without one, as it is; "Success" for nil (strerror(0), as redis prints a
// call that set no errno).
func Of(err error) string {
	if err == nil {
		return "Success"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return Errno(e)
	}
	return err.Error()
}

// Errno is glibc's strerror(e).
func Errno(e syscall.Errno) string {
	s := e.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
