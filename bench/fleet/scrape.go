package fleet

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// scraper GETs every address's /metrics every period, as Prometheus does
// (gzip accepted, a timeout of 10 s), until stopped.
type scraper struct {
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu     sync.Mutex
	n, bad int
	total  time.Duration
}

func startScraper(addrs []string, period time.Duration) *scraper {
	s := &scraper{done: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, a := range addrs {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-s.done:
					return
				case <-t.C:
				}
				start := time.Now()
				ok := scrapeOnce(client, "http://"+a+"/metrics")
				s.mu.Lock()
				s.n++
				s.total += time.Since(start)
				if !ok {
					s.bad++
				}
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// scrapeOnce reads one scrape whole; false if it failed. A scrape the
// sentinel refuses before its metrics listener is up counts as failed.
func scrapeOnce(c *http.Client, url string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	// Set by hand, so that the transport leaves the body compressed, as a
	// scraper that stores it would.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

// stop ends the scrapes and returns their count, failures and mean
// duration; a second call returns the same.
func (s *scraper) stop() (n, bad int, mean time.Duration) {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n > 0 {
		mean = s.total / time.Duration(s.n)
	}
	return s.n, s.bad, mean
}
