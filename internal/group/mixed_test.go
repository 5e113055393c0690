package group

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// A sentinel that hears a redis-sentinel refuses formation ballots (and
// promises nothing on disk), and says so in its status; once the set holds
// only gosentinels it promises as before.
func TestAcceptorRefusesBallotsInAMixedSet(t *testing.T) {
	var foreign []string
	g, err := New(Config{
		ID: "b", Addr: func() string { return "b:26379" }, Expect: func(bool) Expectation { return Expectation{Size: 3} },
		Peers: func() []Peer { return nil }, Transport: noTransport{}, Acceptor: FilePersister{Path: filepath.Join(t.TempDir(), "f.json")},
		Open:    func(string, uint64) (Store, error) { return nil, errors.New("no store in this test") },
		Foreign: func() []string { return foreign },
	})
	if err != nil {
		t.Fatal(err)
	}
	foreign = []string{"r"}
	if _, err := g.handlePrepare(Ballot{N: 1, ID: "a"}); !errors.Is(err, ErrMixedSet) {
		t.Fatalf("prepare in a mixed set: %v", err)
	}
	if _, err := g.handleAccept(Ballot{N: 1, ID: "a"}, []quorum.Server{{ID: "a"}, {ID: "b"}}); !errors.Is(err, ErrMixedSet) {
		t.Fatalf("accept in a mixed set: %v", err)
	}
	if s := g.status(quorum.Server{}); len(s.Foreign) != 1 || s.Promised.N != 0 {
		t.Fatalf("status %+v, want foreign [r] and no promise", s)
	}
	foreign = nil
	if r, err := g.handlePrepare(Ballot{N: 1, ID: "a"}); err != nil || !r.Promised {
		t.Fatalf("prepare once only gosentinels remain: %+v, %v", r, err)
	}
}

type noTransport struct{}

func (noTransport) Status(context.Context, string, quorum.Server) (*Status, error) {
	return nil, errors.New("no transport")
}
func (noTransport) Prepare(context.Context, string, Ballot) (PrepareReply, error) {
	return PrepareReply{}, errors.New("no transport")
}
func (noTransport) Accept(context.Context, string, Ballot, []quorum.Server) (AcceptReply, error) {
	return AcceptReply{}, errors.New("no transport")
}
func (noTransport) Learn(context.Context, string, []quorum.Server) error {
	return errors.New("no transport")
}
func (noTransport) Join(context.Context, string, quorum.Server) error {
	return errors.New("no transport")
}
