package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestInfoTextRoundTrip: whatever a node sends, INFO-CACHE answers it byte
// for byte.
func TestInfoTextRoundTrip(t *testing.T) {
	var k infoKeys
	long := strings.Repeat("n", maxInfoKeyLen+1)
	for _, text := range []string{
		"",
		"a",
		"\r\n",
		"\r\n\r\n",
		"k:v",
		"k:v\r\n",
		":v\r\nk:\r\n:",
		"a:b:c\r\n",
		"# Server\r\nredis_version:7.0.15\r\n\r\n# Clients\r\nconnected_clients:1\r\n",
		"lf:only\nlines:here\n",
		"cr\r:alone\r",
		"\r\r\n\n",
		long + ":kept as it is\r\n" + long + ":again",
		"not\xffutf8:\xfe\r\n\xff:x",
		strings.Repeat("big:", 100) + strings.Repeat("v", 300) + "\r\n",
	} {
		enc := k.encode(text)
		if got := k.text(enc).String(); got != text {
			t.Errorf("%q: decoded as %q", text, got)
		}
		if got := string(k.text(enc).AppendTo([]byte("x"))); got != "x"+text {
			t.Errorf("%q: appended as %q", text, got)
		}
		if k.text(enc).Empty() != (text == "") {
			t.Errorf("%q: Empty() = %v", text, k.text(enc).Empty())
		}
	}
	if _, ok := k.idx[long]; ok {
		t.Errorf("a name longer than %d bytes entered the table", maxInfoKeyLen)
	}
	if (InfoText{}).String() != "" || !(InfoText{}).Empty() {
		t.Error("the zero InfoText is not an empty reply")
	}
}

// TestInfoTextIsCompact: a real Redis INFO reply is kept in well under half
// its size once the table knows its names (the reason for the encoding).
func TestInfoTextIsCompact(t *testing.T) {
	var k infoKeys
	for _, name := range []string{"info_master_2replicas.txt", "info_replica_up.txt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		enc := k.encode(text)
		if got := k.text(enc).String(); got != text {
			t.Fatalf("%s: does not round-trip", name)
		}
		if len(enc)*100 > 40*len(text) {
			t.Errorf("%s: %d bytes kept for %d, more than 40 %%", name, len(enc), len(text))
		}
	}
}

// TestInfoKeysBounded: a node that sends new names without end cannot grow
// the table past its bound, and its replies still round-trip.
func TestInfoKeysBounded(t *testing.T) {
	var k infoKeys
	var b strings.Builder
	for i := range 3 * maxInfoKeys {
		fmt.Fprintf(&b, "name%d:%d\r\n", i, i)
	}
	text := b.String()
	enc := k.encode(text)
	if len(k.list) != maxInfoKeys || len(k.idx) != maxInfoKeys {
		t.Errorf("table has %d names (%d indexed), bound %d", len(k.list), len(k.idx), maxInfoKeys)
	}
	if k.text(enc).String() != text {
		t.Error("a reply past the table's bound does not round-trip")
	}
}

// TestInfoTextOutlivesTableGrowth: a status taken before the table grew
// (and its backing array moved) still decodes, while the monitor goes on
// encoding under its lock and the reader holds none (run with -race: the
// table's entries are never written again once added).
func TestInfoTextOutlivesTableGrowth(t *testing.T) {
	var mu sync.Mutex
	var k infoKeys
	mu.Lock()
	first := "role:master\r\nrun_id:abc\r\n"
	old := k.text(k.encode(first))
	mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 500 {
			mu.Lock()
			k.encode(fmt.Sprintf("new%d:x\r\nnext%d:y", i, i))
			mu.Unlock()
		}
	}()
	for range 500 {
		if got := old.String(); got != first {
			t.Fatalf("an earlier status decodes as %q", got)
		}
	}
	wg.Wait()
	if got := old.String(); got != first {
		t.Fatalf("after the table grew, an earlier status decodes as %q", got)
	}
}

// FuzzInfoText: any reply round-trips, after any other replies have filled
// the table.
func FuzzInfoText(f *testing.F) {
	for _, name := range []string{"info_master_2replicas.txt", "info_replica_link_down.txt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw), "role:slave\r\n")
	}
	f.Add("", "")
	f.Add("a:b\r\n\r\n:", "\r\n:\r\n")
	f.Fuzz(func(t *testing.T, before, text string) {
		var k infoKeys
		earlier := k.text(k.encode(before))
		enc := k.encode(text)
		if got := k.text(enc).String(); got != text {
			t.Fatalf("%q decodes as %q", text, got)
		}
		if got := earlier.String(); got != before {
			t.Fatalf("%q decodes as %q once %q was encoded", before, got, text)
		}
	})
}

// TestStatusInfoIsTheReply: the INFO a status carries (INFO-CACHE's text,
// the metrics' fields) is the node's last reply byte for byte, and a status
// taken earlier keeps the reply it was taken with.
func TestStatusInfoIsTheReply(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "info_master_standalone.txt"))
	if err != nil {
		t.Fatal(err)
	}
	first := string(raw)
	second := masterInfo(strings.Repeat("6", 40)) + "a_new_field:1\r\n"
	info := &switchable{v: first}
	srv := newFakeServer(t, redisLike(info.get, func() string { return "+PONG\r\n" }))
	rec := &recorder{}
	m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming}))
	m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour})
	redistest.Until(t, 2*time.Second, "first INFO", func() bool { return !status(t, m, "m").Master.Info.Empty() })
	earlier := status(t, m, "m").Master.Info
	if got := earlier.String(); got != first {
		t.Fatalf("kept INFO differs from the reply:\n%q\nwant\n%q", got, first)
	}
	info.set(second)
	redistest.Until(t, 5*time.Second, "second INFO", func() bool { return status(t, m, "m").Master.Info.String() == second })
	if got := earlier.String(); got != first {
		t.Fatalf("an earlier status now reads %q", got)
	}
}
