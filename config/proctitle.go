package config

import "strings"

// errProcTitleTemplate is config.c:isValidProcTitleTemplate's text.
const errProcTitleTemplate = "template format is invalid or contains unknown variables"

// validProcTitleTemplate is server.c:validateProcTitleTemplate as the file's load runs it:
// the template, a C string (cut at its first NUL), is expanded by sds.c:sdstemplate with an
// empty title, and what is left once spaces are trimmed must not be empty. "{{" stands for a
// '{'; a '{' at the end or without its '}', and a variable that is not one of redis' (the
// names are case-sensitive), make it invalid; a lone '}' is text. Every variable but {title}
// and {unixsocket} expands to something other than spaces (a port, an address, the config
// file's path, "[sentinel]"); {unixsocket} expands to the unixsocket set by the lines read so
// far, NULL ("") when there was none.
func validProcTitleTemplate(tmpl, unixsocket string) bool {
	t := cString(tmpl)
	shown := false // something other than spaces is in the expansion
	text := func(s string) { shown = shown || strings.Trim(s, " ") != "" }
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			text(t)
			break
		}
		text(t[:i])
		t = t[i+1:]
		if t == "" {
			return false
		}
		if t[0] == '{' {
			text("{")
			t = t[1:]
			continue
		}
		j := strings.IndexByte(t, '}')
		if j < 0 {
			return false
		}
		switch t[:j] {
		case "title":
		case "unixsocket":
			text(cString(unixsocket))
		case "listen-addr", "server-mode", "config-file", "port", "tls-port":
			shown = true
		default:
			return false
		}
		t = t[j+1:]
	}
	return shown
}

// cString is s as C reads it: up to its first NUL.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
