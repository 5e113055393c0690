package redisargs

// String2ll parses s exactly like redis' string2ll: an optional '-', no
// '+', no leading zeros (except "0" itself), no spaces, at most 20 bytes,
// within int64. The command surface and the node's validation of SENTINEL
// MONITOR, SET, CONFIG SET and DEBUG share it (redis reads those numbers
// with getLongLongFromObject and string2l, which reject '+1', '05000' and
// '-0'); sentinel.conf is read as redis reads it, with atoi.
func String2ll[T ~string | ~[]byte](s T) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := false
	p := s
	if p[0] == '-' {
		neg = true
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}
