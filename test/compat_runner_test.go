package test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// stepTimeout bounds each reply read in the compatibility run; a sentinel
// that does not answer costs this much per case, not more.
const stepTimeout = 2 * time.Second

// step is one write to the connection and the replies it must produce.
type step struct {
	// cmd is sent as a RESP array; "{name}" placeholders are expanded from
	// the endpoint's vars (e.g. {mport}, {myid}, {pw}).
	cmd []string
	// raw, if set, is written as is (after placeholder expansion) instead
	// of cmd: inline commands, malformed input.
	raw string
	// replies is how many replies the write produces (pub/sub frames).
	replies int
	// rules relax the comparison of each reply of this step.
	rules []redistest.Rule
}

// label renders the step as typed by a user.
func (s step) label() string {
	if s.raw != "" {
		return fmt.Sprintf("raw %q", s.raw)
	}
	var parts []string
	for _, a := range s.cmd {
		if a == "" || strings.ContainsAny(a, " \t") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// endpoint is one sentinel being compared, with what differs legitimately
// between the two deployments.
type endpoint struct {
	addr string
	// vars fill "{name}" placeholders in commands.
	vars map[string]string
	// tokens map deployment-specific words (ports, run ids, myids) to
	// symbolic names before comparing (see redistest.DiffOptions).
	tokens map[string]string
}

func (e endpoint) expand(s string) string {
	for k, v := range e.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// outcome is one reply, or the I/O failure that ended the case.
type outcome struct {
	step  int
	reply *redistest.Reply
	fail  string // "closed", "timeout" or "dial failed"; "" if reply is set
}

func (o outcome) String() string {
	if o.fail != "" {
		return "<" + o.fail + ">"
	}
	return redistest.Short(o.reply)
}

func (o outcome) raw() string {
	if o.fail != "" {
		return "<" + o.fail + ">"
	}
	return clip(fmt.Sprintf("%q", o.reply.Raw), 400)
}

// rawWindows quotes both replies' bytes from shortly before the first byte
// where they differ, so long replies show the interesting part. For blob
// replies ($, =, !) the length line is shown apart and the payloads are
// aligned, since a differing length would otherwise hide the real change.
func rawWindows(ref, got []byte) (string, string) {
	rh, rb := splitBlobHeader(ref)
	gh, gb := splitBlobHeader(got)
	i := 0
	for i < len(rb) && i < len(gb) && rb[i] == gb[i] {
		i++
	}
	start := max(0, i-40)
	window := func(h, b []byte) string {
		out := ""
		if len(h) > 0 {
			out = fmt.Sprintf("%q + ", h)
		}
		if start > 0 {
			out += fmt.Sprintf("[%d bytes] ", start)
		}
		return out + clip(fmt.Sprintf("%q", b[min(start, len(b)):]), 300)
	}
	return window(rh, rb), window(gh, gb)
}

// splitBlobHeader splits "$<len>\r\n" (or = and !) from the payload.
func splitBlobHeader(b []byte) (header, body []byte) {
	if len(b) == 0 || (b[0] != '$' && b[0] != '=' && b[0] != '!') {
		return nil, b
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return nil, b
	}
	return b[:i+2], b[i+2:]
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// runSteps runs the steps on a fresh connection and returns every reply
// read; it stops at the first I/O failure.
func runSteps(e endpoint, steps []step) []outcome {
	c, err := redistest.Dial(e.addr, stepTimeout)
	if err != nil {
		return []outcome{{fail: "dial failed"}}
	}
	defer c.Close()
	c.Timeout = stepTimeout
	var outs []outcome
	for i, s := range steps {
		var werr error
		if s.raw != "" {
			werr = c.WriteRaw([]byte(e.expand(s.raw)))
		} else {
			args := make([]string, len(s.cmd))
			for j, a := range s.cmd {
				args[j] = e.expand(a)
			}
			werr = c.Send(args...)
		}
		for range s.replies {
			if werr != nil {
				return append(outs, outcome{step: i, fail: "closed"})
			}
			r, err := c.Read()
			if err != nil {
				return append(outs, outcome{step: i, fail: classifyIOError(err)})
			}
			outs = append(outs, outcome{step: i, reply: r})
		}
	}
	return outs
}

func classifyIOError(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	return "closed"
}

// compareOutcomes returns "" if the candidate's replies match the
// reference's under each step's rules, else the first difference with the
// exact bytes of both replies.
func compareOutcomes(steps []step, ref, got []outcome, refEP, gotEP endpoint) string {
	for i := range max(len(ref), len(got)) {
		if i >= len(ref) || i >= len(got) {
			var r, g outcome
			if i < len(ref) {
				r = ref[i]
			}
			if i < len(got) {
				g = got[i]
			}
			return fmt.Sprintf("reply #%d: reference %s, candidate %s", i, r, g)
		}
		r, g := ref[i], got[i]
		st := steps[r.step]
		if r.fail != "" || g.fail != "" {
			if r.fail == g.fail {
				continue
			}
			return fmt.Sprintf("reply #%d to %s: expected %s got %s", i, st.label(), r.raw(), g.raw())
		}
		d := redistest.Diff(r.reply, g.reply, redistest.DiffOptions{
			Rules: st.rules, RefTokens: refEP.tokens, GotTokens: gotEP.tokens,
		})
		if d != "" {
			rw, gw := rawWindows(r.reply.Raw, g.reply.Raw)
			return fmt.Sprintf("reply #%d to %s: %s\n      expected bytes: %s\n      got bytes:      %s", i, st.label(), d, rw, gw)
		}
	}
	return ""
}
