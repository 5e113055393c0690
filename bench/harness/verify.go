package harness

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// verifyBatch is how many keys one MGET reads.
const verifyBatch = 500

// Lost reads every acknowledged key of results from the node at addr (the
// final master) and returns the keys it does not hold with the value
// written.
func Lost(addr string, results ...Result) ([]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second})
	defer c.Close()
	ctx := context.Background()
	var lost []string
	for _, r := range results {
		for start := 0; start < len(r.Acks); start += verifyBatch {
			batch := r.Acks[start:min(start+verifyBatch, len(r.Acks))]
			keys := make([]string, len(batch))
			for i, a := range batch {
				keys[i] = r.Prefix + ":" + strconv.Itoa(a.Seq)
			}
			vals, err := c.MGet(ctx, keys...).Result()
			if err != nil {
				return nil, fmt.Errorf("MGET on %s: %w", addr, err)
			}
			for i, v := range vals {
				if s, ok := v.(string); !ok || s != strconv.Itoa(batch[i].Seq) {
					lost = append(lost, keys[i])
				}
			}
		}
	}
	return lost, nil
}
