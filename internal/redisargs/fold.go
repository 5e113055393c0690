package redisargs

// Redis compares and lower-cases names byte by byte in the C locale:
// sdstolower, sdstoupper and strcasecmp touch the ASCII letters and nothing
// else. Go's strings.ToLower and strings.EqualFold fold Unicode instead: they
// take the Kelvin sign (U+212A) for a 'k' and turn every invalid UTF-8 byte
// into U+FFFD, so a name redis refuses would be accepted, and a byte-exact
// name would come back changed. Every case-insensitive name of the command
// surface and the config file goes through these three.

// Lower is sdstolower: ASCII letters lower-cased, every other byte kept. It
// returns s itself when there is nothing to change.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Upper is sdstoupper: ASCII letters upper-cased, every other byte kept.
func Upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// EqualFold is strcasecmp(a, b) == 0: equal but for the case of ASCII
// letters.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
