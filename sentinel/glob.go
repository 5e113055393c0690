package sentinel

// globMatch reports whether str matches the glob pattern with redis'
// stringmatchlen semantics: '*', '?', '[...]' with '^' negation and a-z
// ranges, '\' escapes, optional ASCII case folding. It is used for
// PSUBSCRIBE patterns, ACL channel patterns, SENTINEL RESET,
// COMMAND LIST FILTERBY PATTERN and CONFIG GET-style matches.
func globMatch(pattern, str string, nocase bool) bool {
	skipLonger := false
	return globMatchImpl(pattern, str, nocase, &skipLonger)
}

// at returns s[i], or 0 past the end: the C code reads the NUL terminator
// there and several branches depend on it.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globMatchImpl(p, s string, nocase bool, skipLonger *bool) bool {
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchImpl(p[1:], s, nocase, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// No match of the rest anywhere in the string: an earlier '*'
			// matching more cannot help either.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := at(p, 0) == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if at(p, 0) == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if at(p, 0) == ']' {
					break
				} else if len(p) == 0 {
					// Unterminated class: the C code steps back one byte so
					// that the common "advance" below lands on the end.
					p = "\x00"
					break
				} else if len(p) >= 3 && p[1] == '-' {
					// C compares (signed) chars.
					start, end, c := int(int8(p[0])), int(int8(p[2])), int(int8(s[0]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = cLower(start), cLower(end), cLower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else {
					if !nocase {
						if p[0] == s[0] {
							match = true
						}
					} else if lowerByte(p[0]) == lowerByte(s[0]) {
						match = true
					}
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if !nocase {
				if p[0] != s[0] {
					return false
				}
			} else if lowerByte(p[0]) != lowerByte(s[0]) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

func cLower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Match reports whether str matches the glob pattern with redis'
// stringmatchlen semantics (see globMatch). The node package can use it
// for SENTINEL RESET (case-sensitive) and SENTINEL CONFIG GET (nocase).
func Match(pattern, str string, nocase bool) bool { return globMatch(pattern, str, nocase) }
