package harness

import (
	"fmt"
	"path/filepath"
	"slices"
)

// Number is what Median takes: durations, counts, rates.
type Number interface{ ~int64 | ~float64 }

// Median is the median of vs (the mean of the middle two for an even
// count); ok is false for none. The one definition every benchmark's table
// uses.
func Median[T Number](vs []T) (T, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// AbsPaths makes each path absolute: the benchmarks start sentinels in
// their own temp dirs, where a relative path to a binary would not
// resolve.
func AbsPaths(paths ...*string) error {
	for _, p := range paths {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("%s: %w", *p, err)
		}
		*p = abs
	}
	return nil
}
