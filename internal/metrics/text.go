package metrics

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/expfmt"
)

// textSink renders the state's families in Prometheus' text format
// (version 0.0.4) straight from the snapshot, one buffer per family, so
// that each family's series are written together, whatever order the
// snapshot is walked in.
//
// Why not client_golang's const metrics and Gather: at 1000 masters a
// scrape made about 41,000 of them, each with its label pairs and a
// protobuf message, then sorted and checked them, and only then wrote the
// text. That was 0.3-0.45 s of a core and 60 MB allocated per scrape, and
// the heap (and the resident size) grew by 24 MB during each one. The
// text is what a scrape sends anyway (3.5 MB at 1000 masters), and is all
// this keeps. stateCollector still serves the same series through
// Registry().Gather(), from the same writer, so a test compares the two.
type textSink struct {
	bufs [][]byte // by the family's position in families()
}

// newTextSink sizes each family's buffer as the last scrape filled it
// (sizes), so that a scrape's text is not copied as its buffers grow.
func newTextSink(sizes []int) *textSink {
	t := &textSink{bufs: make([][]byte, len(familyPos))}
	for i, n := range sizes {
		if n > 0 {
			t.bufs[i] = make([]byte, 0, n+n/8)
		}
	}
	return t
}

// sizes returns each family buffer's length, for the next scrape.
func (t *textSink) sizes() []int {
	out := make([]int, len(t.bufs))
	for i, b := range t.bufs {
		out[i] = len(b)
	}
	return out
}

// familyPos is each family's position in families(), the text's order.
var familyPos = func() map[string]int {
	out := map[string]int{}
	for i, f := range families() {
		out[f.name] = i
	}
	return out
}()

// put appends one series: name{label="value",...} value.
func (t *textSink) put(f family, v float64, labels []string) {
	if len(labels) != len(f.labels) {
		// A programming error, as prometheus.MustNewConstMetric treats it.
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(labels)))
	}
	if t.bufs == nil {
		t.bufs = make([][]byte, len(familyPos))
	}
	pos := familyPos[f.name]
	b := append(t.bufs[pos], f.name...)
	if len(labels) > 0 {
		b = append(b, '{')
		for i, l := range f.labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, l...)
			b = append(b, '=', '"')
			b = appendEscaped(b, labels[i], true)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64) // as expfmt writes a float: 1, 0, -1, NaN, +Inf, -Inf
	t.bufs[pos] = append(b, '\n')
}

// writeTo writes every family that has a series, each under its HELP and
// TYPE lines, in families() order.
func (t *textSink) writeTo(w *bufio.Writer) error {
	for i, f := range families() {
		if i >= len(t.bufs) || len(t.bufs[i]) == 0 {
			continue
		}
		w.WriteString("# HELP ")
		w.WriteString(f.name)
		w.WriteByte(' ')
		w.Write(appendEscaped(nil, f.help, false))
		w.WriteString("\n# TYPE ")
		w.WriteString(f.name)
		w.WriteString(typeNames[f.kind])
		w.Write(t.bufs[i])
	}
	return w.Flush()
}

var typeNames = map[kind]string{gauge: " gauge\n", counter: " counter\n", histogram: " histogram\n"}

// appendEscaped escapes as the text format does: a backslash and a
// newline always, a double quote inside a label value. Most values need
// none and are copied whole.
func appendEscaped(b []byte, s string, quote bool) []byte {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		clean = c != '\\' && c != '\n' && (c != '"' || !quote)
	}
	if clean {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// validLabel makes a label value valid UTF-8, as the exposition formats
// require: client_golang refused an invalid one (every scrape answered
// 500 while such a master was watched), and a parser rejects the whole
// scrape. A master's name can hold any bytes.
func validLabel(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// maxScrapes bounds the scrapes rendered at once, as promhttp's
// MaxRequestsInFlight did.
const maxScrapes = 4

// serveMetrics renders a scrape: the event and runtime families through
// client_golang's registry, then the state's families through a textSink.
// It always answers in the text format (a scraper that asks for protobuf
// gets text, which every Prometheus accepts), compressed when the
// scraper accepts gzip.
func (m *Metrics) serveMetrics(w http.ResponseWriter, r *http.Request) {
	select {
	case m.scrapes <- struct{}{}:
		defer func() { <-m.scrapes }()
	default:
		http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", maxScrapes), http.StatusServiceUnavailable)
		return
	}
	mfs, err := m.events.Gather()
	if err != nil {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	m.mu.Lock()
	state := newTextSink(m.textSizes)
	m.mu.Unlock()
	m.collectState(writer{text: state})
	m.mu.Lock()
	m.textSizes = state.sizes()
	m.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", string(expfmt.NegotiateAccept(r.Header, expfmt.NewFormat(expfmt.TypeTextPlain))))
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	var out io.Writer = w
	if acceptsGzip(r.Header) {
		h.Set("Content-Encoding", "gzip")
		// BestSpeed: the text repeats itself (a master's name in every
		// series), so the fastest level still compresses it 18-fold (3.5
		// MB to 0.2 at 1000 masters), as promhttp's default level did.
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		defer gz.Close()
		out = gz
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
			return // the scraper went away; nothing more can be said to it
		}
	}
	state.writeTo(bw)
}

// acceptsGzip tells whether Accept-Encoding lists gzip, without q=0.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, e := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(e), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, hasQ := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			if f, err := strconv.ParseFloat(q, 64); hasQ && err == nil && f == 0 {
				return false
			}
			return true
		}
	}
	return false
}
