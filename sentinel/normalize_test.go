package sentinel

import (
	"regexp"
	"slices"
	"strings"
)

// normMode says how two replies are compared.
type normMode int

const (
	nExact   normMode = iota // byte for byte
	nMask                    // numbers and 40-hex ids masked (timers, ids, ports)
	nMaskLib                 // masked, without client lines' lib-name/lib-ver (deliberate: 7.2's fields)
	nSorted                  // masked, and every array compared as a multiset (dict order)
	nTokens                  // masked, and the words of each string compared as a multiset (ACL rules)
	nInfo                    // INFO: the section headers and field names only
	nShape                   // only the reply types and aggregate sizes
)

var (
	hexID  = regexp.MustCompile(`[0-9a-f]{40}`)
	digits = regexp.MustCompile(`[0-9][0-9.e+-]*`)
	addrRe = regexp.MustCompile(`(addr|laddr)=[^ ]*`)
	// libFields are the fields 7.2 appends to client lines (CLIENT
	// LIST/INFO, ACL LOG's client-info), which we show for CLIENT SETINFO.
	libFields = regexp.MustCompile(` lib-name=[^ \n]* lib-ver=[^ \n]*`)
)

func maskString(s string) string {
	s = hexID.ReplaceAllString(s, "<id>")
	s = addrRe.ReplaceAllString(s, "$1=<addr>")
	return digits.ReplaceAllString(s, "#")
}

// canon renders a parsed reply as a canonical string under mode.
func canon(v respValue, mode normMode) string {
	if mode == nExact {
		return string(v.raw)
	}
	if mode == nInfo && (v.typ == '$' || v.typ == '=') {
		var fields []string
		for _, l := range strings.Split(v.str, "\r\n") {
			if k, _, ok := strings.Cut(l, ":"); ok {
				fields = append(fields, k)
			} else if l != "" {
				fields = append(fields, l)
			}
		}
		return "$info{" + strings.Join(fields, ",") + "}"
	}
	switch v.typ {
	case '*', '~', '>', '%', '|':
		if v.raw[1] == '-' {
			return string(v.raw)
		}
		kids := make([]string, len(v.children))
		for i, ch := range v.children {
			kids[i] = canon(ch, mode)
		}
		if mode == nSorted && v.typ != '%' {
			slices.Sort(kids)
		}
		if mode == nSorted && v.typ == '%' {
			pairs := make([]string, 0, len(kids)/2)
			for i := 0; i+1 < len(kids); i += 2 {
				pairs = append(pairs, kids[i]+"=>"+kids[i+1])
			}
			slices.Sort(pairs)
			kids = pairs
		}
		if mode == nShape {
			return string(v.typ) + "[" + strings.Join(kids, ",") + "]"
		}
		return string(v.typ) + "[" + strings.Join(kids, ",") + "]"
	}
	if mode == nShape {
		return string(v.typ)
	}
	if v.raw != nil && (v.typ == '$' && strings.HasPrefix(string(v.raw), "$-1")) {
		return "$-1"
	}
	s := v.str
	if mode == nMaskLib {
		s = libFields.ReplaceAllString(s, "")
	}
	if mode == nTokens {
		words := strings.Fields(s)
		slices.Sort(words)
		s = strings.Join(words, " ")
	}
	return string(v.typ) + maskString(s)
}
