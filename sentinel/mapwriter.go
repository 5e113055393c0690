package sentinel

import (
	"strconv"

	"github.com/tidwall/redcon"
)

// MapWriter receives instance maps' fields, in order (SENTINEL MASTER,
// MASTERS, REPLICAS and SENTINELS show the same maps). End closes a map;
// Len, first, announces a list of n maps.
//
// The Backend writes these maps straight into the reply. Clients ask them
// at high rates (the Bitnami chart's checks, redis_exporter's scrapes,
// clients' replica lookups), and Fields rendered in between, strings for
// numbers included, were most of what SENTINEL MASTERS cost (issue 12).
type MapWriter interface {
	Len(n int)
	Str(key, value string)
	Int(key string, value int64)
	End()
}

// noMaps is a MapWriter that keeps nothing: SENTINEL FAILOVER asks
// RenderMaster only whether the master exists.
type noMaps struct{}

func (noMaps) Len(int)           {}
func (noMaps) Str(_, _ string)   {}
func (noMaps) Int(string, int64) {}
func (noMaps) End()              {}

// MaxInstanceFields is the most fields an instance map has: a master's with
// every optional one (node's TestInstanceMapsFit). FieldsList makes each
// map that large at once: one grown a field at a time was copied five
// times.
const MaxInstanceFields = 25

// FieldsList is a MapWriter that collects the maps as Fields.
type FieldsList struct {
	List []Fields
	cur  Fields
}

func (l *FieldsList) Len(n int) { l.List = make([]Fields, 0, n) }
func (l *FieldsList) Str(k, v string) {
	if l.cur == nil {
		l.cur = make(Fields, 0, MaxInstanceFields)
	}
	l.cur = append(l.cur, Field{Key: k, Value: v})
}
func (l *FieldsList) Int(k string, v int64) { l.Str(k, strconv.FormatInt(v, 10)) }
func (l *FieldsList) End()                  { l.List, l.cur = append(l.List, l.cur), nil }

// mapEncoder is the client's MapWriter: a map's fields go to body, and End
// writes the map's header (its length is known only then) and body to the
// reply.
type mapEncoder struct {
	c    *client
	body []byte
	n    int
}

// maxKeptMapBody is the largest body kept for the client's next map; one
// instance map is about 600 bytes.
const maxKeptMapBody = 4096

func (e *mapEncoder) Len(n int) { e.c.addArrayLen(n) }

func (e *mapEncoder) Str(k, v string) {
	e.body = redcon.AppendBulkString(redcon.AppendBulkString(e.body, k), v)
	e.n++
}

func (e *mapEncoder) Int(k string, v int64) {
	e.body = redcon.AppendBulkString(e.body, k)
	var digits [20]byte
	e.body = redcon.AppendBulk(e.body, strconv.AppendInt(digits[:0], v, 10))
	e.n++
}

func (e *mapEncoder) End() {
	e.c.addMapLen(e.n)
	e.c.addRaw(e.body)
	e.n = 0
	if cap(e.body) > maxKeptMapBody {
		e.body = nil
	} else {
		e.body = e.body[:0]
	}
}

// mapWriter returns the client's map encoder, empty.
func (c *client) mapWriter() *mapEncoder {
	if c.maps == nil {
		c.maps = &mapEncoder{c: c}
	}
	c.maps.body, c.maps.n = c.maps.body[:0], 0
	return c.maps
}
