package sentinel

import (
	"errors"
	"strconv"

	"github.com/tidwall/redcon"
)

// The add* methods append one reply element to the reply being built for
// the current command, in the client's protocol (RESP2 or RESP3). Like
// redis' prepareClientToWrite they drop everything while CLIENT REPLY OFF or
// SKIP is in effect, except push frames (pubsub), which are written with
// c.pushing set.

func (c *client) canReply() bool {
	return c.pushing || !(c.replyOff || c.replySkip)
}

func (c *client) addRaw(b []byte) {
	if c.canReply() {
		c.reply = append(c.reply, b...)
	}
}

// addStatus writes a simple string (+text).
func (c *client) addStatus(s string) {
	if c.canReply() {
		c.reply = redcon.AppendString(c.reply, s)
	}
}

func (c *client) addOK() { c.addStatus("OK") }

// addError writes an error whose full text (code included, no leading '-')
// is text, e.g. "ERR syntax error" or "NOPERM ...". CR/LF become spaces.
func (c *client) addError(text string) {
	c.srv.stats.errorReplies.Add(1)
	if c.canReply() {
		c.reply = redcon.AppendError(c.reply, text)
	}
}

// addErr writes "ERR <msg>" (addReplyError in redis).
func (c *client) addErr(msg string) { c.addError("ERR " + msg) }

// addBackendError writes an error returned by the Backend: a ReplyError (or
// any text starting with an upper-case code) verbatim, anything else as
// "ERR <text>".
func (c *client) addBackendError(err error) {
	var re ReplyError
	if errors.As(err, &re) {
		c.addError(string(re))
		return
	}
	text := err.Error()
	if hasErrorCode(text) {
		c.addError(text)
		return
	}
	c.addErr(text)
}

// hasErrorCode reports whether text starts with an all-upper-case word
// followed by a space, like "ERR x" or "NOQUORUM x".
func hasErrorCode(text string) bool {
	for i := 0; i < len(text); i++ {
		ch := text[i]
		if ch == ' ' {
			return i > 0
		}
		if ch < 'A' || ch > 'Z' {
			return false
		}
	}
	return false
}

func (c *client) addInt(n int64) {
	if c.canReply() {
		c.reply = redcon.AppendInt(c.reply, n)
	}
}

func (c *client) addBulk(s string) {
	if c.canReply() {
		c.reply = redcon.AppendBulkString(c.reply, s)
	}
}

// addBulkInt writes a number as a bulk string (addReplyBulkLongLong).
func (c *client) addBulkInt(n int64) { c.addBulk(strconv.FormatInt(n, 10)) }

// addNull writes a null bulk string: $-1 in RESP2, _ in RESP3.
func (c *client) addNull() {
	if c.proto() == 2 {
		c.addRaw([]byte("$-1\r\n"))
	} else {
		c.addRaw([]byte("_\r\n"))
	}
}

// addNullArray writes a null array: *-1 in RESP2, _ in RESP3.
func (c *client) addNullArray() {
	if c.proto() == 2 {
		c.addRaw([]byte("*-1\r\n"))
	} else {
		c.addRaw([]byte("_\r\n"))
	}
}

func (c *client) addAggregateLen(kind byte, n int) {
	if c.canReply() {
		c.reply = append(c.reply, kind)
		c.reply = strconv.AppendInt(c.reply, int64(n), 10)
		c.reply = append(c.reply, '\r', '\n')
	}
}

func (c *client) addArrayLen(n int) { c.addAggregateLen('*', n) }

// addMapLen announces n key/value pairs: %n in RESP3, *2n in RESP2.
func (c *client) addMapLen(n int) {
	if c.proto() == 2 {
		c.addAggregateLen('*', 2*n)
	} else {
		c.addAggregateLen('%', n)
	}
}

// addSetLen announces a set: ~n in RESP3, *n in RESP2.
func (c *client) addSetLen(n int) {
	if c.proto() == 2 {
		c.addAggregateLen('*', n)
	} else {
		c.addAggregateLen('~', n)
	}
}

// addPushLen announces a push frame: >n in RESP3, *n in RESP2.
func (c *client) addPushLen(n int) {
	if c.proto() == 2 {
		c.addAggregateLen('*', n)
	} else {
		c.addAggregateLen('>', n)
	}
}

// addDouble writes a double: a bulk string in RESP2, ",d" in RESP3.
func (c *client) addDouble(d float64) {
	text := formatDouble(d, c.srv.cfg.Compat.ShortestDoubles())
	if c.proto() == 2 {
		c.addBulk(text)
	} else {
		c.addRaw([]byte("," + text + "\r\n"))
	}
}

// addVerbatim writes a verbatim string of format "txt" in RESP3 and a bulk
// string in RESP2 (addReplyVerbatim).
func (c *client) addVerbatim(s string) {
	if c.proto() == 2 {
		c.addBulk(s)
		return
	}
	if c.canReply() {
		c.reply = append(c.reply, '=')
		c.reply = strconv.AppendInt(c.reply, int64(len(s)+4), 10)
		c.reply = append(c.reply, "\r\ntxt:"...)
		c.reply = append(c.reply, s...)
		c.reply = append(c.reply, '\r', '\n')
	}
}

// addFields writes an ordered map of bulk strings.
func (c *client) addFields(f Fields) {
	c.addMapLen(len(f))
	for _, kv := range f {
		c.addBulk(kv.Key)
		c.addBulk(kv.Value)
	}
}

// addStatusLines writes an array of simple strings (HELP replies).
func (c *client) addStatusLines(lines []string) {
	c.addArrayLen(len(lines))
	for _, l := range lines {
		c.addStatus(l)
	}
}
