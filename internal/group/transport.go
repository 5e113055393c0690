package group

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// The group's peer RPC operations.
const (
	opStatus  = "group.status"
	opPrepare = "group.prepare"
	opAccept  = "group.accept"
	opLearn   = "group.learn"
	opJoin    = "group.join"
)

type statusRequest struct {
	From quorum.Server `json:"from"`
}

type prepareRequest struct {
	Ballot Ballot `json:"ballot"`
}

type acceptRequest struct {
	Ballot  Ballot          `json:"ballot"`
	Servers []quorum.Server `json:"servers"`
}

type learnRequest struct {
	Servers []quorum.Server `json:"servers"`
}

type joinRequest struct {
	Server quorum.Server `json:"server"`
}

// Codes are the group's errors as peer codes: the node registers them with
// its own, on both ends of the peer RPC.
func Codes() []peer.Code {
	return []peer.Code{
		{Name: "group-not-leader", Err: ErrNotLeader},
		{Name: "group-join-refused", Err: ErrJoinRefused},
		{Name: "group-none", Err: ErrNoGroup},
		{Name: "group-mixed-set", Err: ErrMixedSet},
	}
}

// RPCTransport sends the group's RPCs through the peer RPC client.
type RPCTransport struct{ Client *peer.Client }

// Status asks addr for its status.
func (t RPCTransport) Status(ctx context.Context, addr string, from quorum.Server) (*Status, error) {
	var s Status
	if err := t.Client.Call(ctx, addr, opStatus, statusRequest{From: from}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Prepare sends a formation prepare.
func (t RPCTransport) Prepare(ctx context.Context, addr string, b Ballot) (PrepareReply, error) {
	var r PrepareReply
	err := t.Client.Call(ctx, addr, opPrepare, prepareRequest{Ballot: b}, &r)
	return r, err
}

// Accept sends a formation accept.
func (t RPCTransport) Accept(ctx context.Context, addr string, b Ballot, servers []quorum.Server) (AcceptReply, error) {
	var r AcceptReply
	err := t.Client.Call(ctx, addr, opAccept, acceptRequest{Ballot: b, Servers: servers}, &r)
	return r, err
}

// Learn tells addr the chosen configuration.
func (t RPCTransport) Learn(ctx context.Context, addr string, servers []quorum.Server) error {
	return t.Client.Call(ctx, addr, opLearn, learnRequest{Servers: servers}, nil)
}

// Join asks the leader at addr to add s.
func (t RPCTransport) Join(ctx context.Context, addr string, s quorum.Server) error {
	return t.Client.Call(ctx, addr, opJoin, joinRequest{Server: s}, nil)
}

// Register serves the group's RPCs on srv.
func (g *Group) Register(srv *peer.Server) {
	srv.Handle(opStatus, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req statusRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return g.status(req.From), nil
	})
	srv.Handle(opPrepare, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req prepareRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return g.handlePrepare(req.Ballot)
	})
	srv.Handle(opAccept, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req acceptRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return g.handleAccept(req.Ballot, req.Servers)
	})
	srv.Handle(opLearn, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req learnRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		g.handleLearn(req.Servers)
		return nil, nil
	})
	srv.Handle(opJoin, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req joinRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return nil, g.handleJoin(ctx, req.Server)
	})
}

func decode(body json.RawMessage, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad group request: %w", err)
	}
	return nil
}
