package sentinel

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// renderingBackend is a fakeBackend that also writes SENTINEL MASTER,
// MASTERS, REPLICAS and SENTINELS through MapsRenderer, from the same
// Fields, numbers as numbers.
type renderingBackend struct{ *fakeBackend }

var _ MapsRenderer = renderingBackend{}

func (r renderingBackend) RenderMasters(w MapWriter) { writeList(w, r.Masters(), nil) }

func (r renderingBackend) RenderReplicas(name string, w MapWriter) error {
	list, err := r.Replicas(name)
	return writeList(w, list, err)
}

func (r renderingBackend) RenderSentinels(name string, w MapWriter) error {
	list, err := r.Sentinels(name)
	return writeList(w, list, err)
}

func writeList(w MapWriter, list []Fields, err error) error {
	if err != nil {
		return err
	}
	w.Len(len(list))
	for _, f := range list {
		writeFields(w, f)
	}
	return nil
}

func (r renderingBackend) RenderMaster(name string, w MapWriter) error {
	f, err := r.Master(name)
	if err != nil {
		return err
	}
	writeFields(w, f)
	return nil
}

func writeFields(w MapWriter, f Fields) {
	for _, kv := range f {
		if n, err := strconv.ParseInt(kv.Value, 10, 64); err == nil && strconv.FormatInt(n, 10) == kv.Value {
			w.Int(kv.Key, n)
		} else {
			w.Str(kv.Key, kv.Value)
		}
	}
	w.End()
}

// TestMapsRendererRepliesAsFields: SENTINEL MASTERS, MASTER, REPLICAS and
// SENTINELS written straight into the reply (MapsRenderer) are byte for
// byte the replies of the same maps as Fields, in RESP2 and RESP3, for maps
// of every size (one larger than the encoder keeps between commands),
// errors, empty lists, and under CLIENT REPLY SKIP.
func TestMapsRendererRepliesAsFields(t *testing.T) {
	big := fakeMasterFields("big")
	big = append(big, Field{"notification-script", "/" + strings.Repeat("x", 2*maxKeptMapBody)})
	masters := [][]Fields{
		{fakeMasterFields("mymaster")},
		{fakeMasterFields("a"), big, fakeMasterFields("c"), {{"name", "d"}, {"port", "-12"}, {"x", "007"}}},
		{},
	}
	for _, list := range masters {
		backend := func() *fakeBackend {
			lists := func(name string) ([]Fields, error) {
				if name != "mymaster" {
					return nil, ErrNoSuchMaster
				}
				return list, nil
			}
			return &fakeBackend{MastersFn: func() []Fields { return list }, ReplFn: lists, SentFn: lists}
		}
		_, plain := startServer(t, Config{Backend: backend()})
		_, direct := startServer(t, Config{Backend: renderingBackend{backend()}})
		for _, proto := range []string{"2", "3"} {
			a, b := dialRaw(t, plain), dialRaw(t, direct)
			for _, cmd := range [][]string{
				{"HELLO", proto}, {"SENTINEL", "MASTERS"}, {"SENTINEL", "MASTER", "mymaster"},
				{"SENTINEL", "MASTER", "nosuch"}, {"SENTINEL", "MASTERS"},
				{"SENTINEL", "REPLICAS", "mymaster"}, {"SENTINEL", "SLAVES", "mymaster"},
				{"SENTINEL", "REPLICAS", "nosuch"}, {"SENTINEL", "SENTINELS", "mymaster"},
				{"SENTINEL", "SENTINELS", "nosuch"},
			} {
				want, got := a.do(cmd...), b.do(cmd...)
				if !bytes.Equal(got, want) {
					t.Errorf("RESP%s, %d masters, %v:\n got %q\nwant %q", proto, len(list), cmd, got, want)
				}
			}
			// A skipped reply leaves nothing behind: PING's is the next.
			for _, c := range []*rawConn{a, b} {
				c.send(encodeCommand("CLIENT", "REPLY", "SKIP"))
				c.send(encodeCommand("SENTINEL", "MASTERS"))
				if got := c.do("PING"); string(got) != "+PONG\r\n" {
					t.Errorf("RESP%s, %d masters: after a skipped MASTERS, PING replied %q", proto, len(list), got)
				}
			}
		}
	}
}
