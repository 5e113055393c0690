package sentinel

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// fieldsReply is the reference encoding of instance maps: what
// SENTINEL MASTER (one) or MASTERS, REPLICAS and SENTINELS reply with list
// in protocol proto, each map as Fields with every value a bulk string, as
// redis-sentinel writes them, or err's error reply.
func fieldsReply(proto int32, list []Fields, one bool, err error) []byte {
	c := &client{srv: &Server{}}
	c.resp.Store(proto)
	switch {
	case err != nil:
		c.addBackendError(err)
	case one:
		c.addFields(list[0])
	default:
		c.addArrayLen(len(list))
		for _, f := range list {
			c.addFields(f)
		}
	}
	return c.reply
}

// TestMapsRendererRepliesAsFields: SENTINEL MASTERS, MASTER, REPLICAS and
// SENTINELS, written straight into the reply through the client's
// MapWriter (numbers through Int), are byte for byte the reference
// encoding of the same maps as Fields (fieldsReply), in RESP2 and RESP3,
// for maps of every size (one larger than the encoder keeps between
// commands), errors, empty lists, and under CLIENT REPLY SKIP.
func TestMapsRendererRepliesAsFields(t *testing.T) {
	big := fakeMasterFields("big")
	big = append(big, Field{"notification-script", "/" + strings.Repeat("x", 2*maxKeptMapBody)})
	masters := [][]Fields{
		{fakeMasterFields("mymaster")},
		{fakeMasterFields("a"), big, fakeMasterFields("c"), {{"name", "d"}, {"port", "-12"}, {"x", "007"}}},
		{},
	}
	mymaster := []Fields{fakeMasterFields("mymaster")}
	for _, list := range masters {
		lists := func(name string) ([]Fields, error) {
			if name != "mymaster" {
				return nil, ErrNoSuchMaster
			}
			return list, nil
		}
		_, addr := startServer(t, Config{Backend: &fakeBackend{MastersFn: func() []Fields { return list }, ReplFn: lists, SentFn: lists}})
		for _, proto := range []int32{2, 3} {
			c := dialRaw(t, addr)
			if got := c.do("HELLO", strconv.Itoa(int(proto))); len(got) == 0 || got[0] == '-' {
				t.Fatalf("HELLO %d: %q", proto, got)
			}
			for _, tc := range []struct {
				cmd  []string
				list []Fields
				one  bool
				err  error
			}{
				{cmd: []string{"SENTINEL", "MASTERS"}, list: list},
				{cmd: []string{"SENTINEL", "MASTER", "mymaster"}, list: mymaster, one: true},
				{cmd: []string{"SENTINEL", "MASTER", "nosuch"}, err: ErrNoSuchMaster},
				{cmd: []string{"SENTINEL", "MASTERS"}, list: list},
				{cmd: []string{"SENTINEL", "REPLICAS", "mymaster"}, list: list},
				{cmd: []string{"SENTINEL", "SLAVES", "mymaster"}, list: list},
				{cmd: []string{"SENTINEL", "REPLICAS", "nosuch"}, err: ErrNoSuchMaster},
				{cmd: []string{"SENTINEL", "SENTINELS", "mymaster"}, list: list},
				{cmd: []string{"SENTINEL", "SENTINELS", "nosuch"}, err: ErrNoSuchMaster},
				{cmd: []string{"SENTINEL", "MASTER", "mymaster"}, list: mymaster, one: true},
			} {
				want, got := fieldsReply(proto, tc.list, tc.one, tc.err), c.do(tc.cmd...)
				if !bytes.Equal(got, want) {
					t.Errorf("RESP%d, %d masters, %v:\n got %q\nwant %q", proto, len(list), tc.cmd, got, want)
				}
			}
			// A skipped reply leaves nothing behind: PING's is the next.
			c.send(encodeCommand("CLIENT", "REPLY", "SKIP"))
			c.send(encodeCommand("SENTINEL", "MASTERS"))
			if got := c.do("PING"); string(got) != "+PONG\r\n" {
				t.Errorf("RESP%d, %d masters: after a skipped MASTERS, PING replied %q", proto, len(list), got)
			}
		}
	}
}
