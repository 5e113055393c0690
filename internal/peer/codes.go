package peer

import (
	"errors"
	"fmt"
)

// Codes gives error values that cross the RPC a stable name, so that the
// caller gets the very value back (errors.Is matches) instead of its text:
// a handler's error is sent with the name of the first registered value it
// matches, and the client's RemoteError unwraps to the value registered
// under that name. Both ends register the same table (the node owns it);
// an unregistered error still arrives, as a RemoteError with its text.
type Codes struct {
	list   []Code
	byName map[string]error
}

// Code is one entry of a table: a name and the error value it stands for.
type Code struct {
	Name string
	Err  error
}

// NewCodes builds a table. Names and values must be unique and non-empty:
// a clash is a programming error, so it panics.
func NewCodes(entries ...Code) *Codes {
	c := &Codes{byName: map[string]error{}}
	for _, e := range entries {
		if e.Name == "" || e.Err == nil {
			panic("peer: a code needs a name and an error")
		}
		if _, dup := c.byName[e.Name]; dup {
			panic(fmt.Sprintf("peer: code %q registered twice", e.Name))
		}
		for _, prev := range c.list {
			if prev.Err == e.Err {
				panic(fmt.Sprintf("peer: error %q registered as %q and %q", e.Err, prev.Name, e.Name))
			}
		}
		c.byName[e.Name] = e.Err
		c.list = append(c.list, e)
	}
	return c
}

// Name returns the name of the first entry err matches, or "": a handler
// that reports an error inside its response body (not as the RPC's error)
// sends this.
func (c *Codes) Name(err error) string {
	if c == nil {
		return ""
	}
	for _, e := range c.list {
		if errors.Is(err, e.Err) {
			return e.Name
		}
	}
	return ""
}

// Lookup returns the value registered under name, or nil.
func (c *Codes) Lookup(name string) error {
	if c == nil || name == "" {
		return nil
	}
	return c.byName[name]
}
