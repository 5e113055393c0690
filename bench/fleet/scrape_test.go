package fleet

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The scraper asks for /metrics with gzip, as Prometheus does, counts
// what it did, and counts a refused scrape as failed.
func TestScraperCountsScrapesAndFailures(t *testing.T) {
	var good, gzipped atomic.Int32
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			good.Add(1)
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			gzipped.Add(1)
		}
		w.Write([]byte("up 1\n"))
	}))
	defer ok.Close()
	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer refused.Close()

	s := startScraper([]string{strings.TrimPrefix(ok.URL, "http://"), strings.TrimPrefix(refused.URL, "http://")}, 5*time.Millisecond)
	err := redistest.PollErr(5*time.Second, 5*time.Millisecond, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.bad < 3 || good.Load() < 3 {
			return errFewScrapes
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, bad, mean := s.stop()
	if bad == 0 || bad >= n || mean <= 0 {
		t.Errorf("%d scrapes, %d failed, %v mean: want some of each", n, bad, mean)
	}
	if int(good.Load()) != n-bad || gzipped.Load() != good.Load() {
		t.Errorf("the good server saw %d scrapes (%d asking gzip), the scraper counted %d good", good.Load(), gzipped.Load(), n-bad)
	}
	if n2, _, _ := s.stop(); n2 != n {
		t.Errorf("a second stop counted %d, the first %d", n2, n)
	}
}

var errFewScrapes = errors.New("fewer than 3 scrapes of each server yet")
