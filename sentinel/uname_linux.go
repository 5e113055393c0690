//go:build linux

package sentinel

import "syscall"

// osString is INFO's os field: "sysname release machine" (uname).
func osString() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "Linux"
	}
	return utsField(u.Sysname[:]) + " " + utsField(u.Release[:]) + " " + utsField(u.Machine[:])
}

func utsField[T int8 | uint8](a []T) string {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
