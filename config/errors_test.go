package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFatalErrorsMatchRedis loads every testdata/errors/*.conf and compares our fatal block
// with the stderr redis-sentinel 7.0.15 printed for it (captured by
// testdata/gen/capture_errors.sh, with the same --port override).
func TestFatalErrorsMatchRedis(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".conf")
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(name, "user-") {
				// `user` lines are checked by the ACL engine when the node starts, with
				// the same block: node's TestUserLineErrorsMatchRedis runs these.
				t.Skip("checked by the ACL engine at start")
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".conf") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(f, [][]string{{"port", "21299"}})
			var fe *FatalError
			if !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *FatalError", err)
			}
			if name == "include" {
				// Redis logs "Fatal error, can't open config file" to stdout; we refuse include.
				if !strings.Contains(fe.Reason, "include is not supported") || fe.Line != 1 {
					t.Fatalf("include: got %+v", fe)
				}
				return
			}
			if got := fe.RedisBlock(); got != string(want) {
				t.Fatalf("block mismatch\n got: %q\nwant: %q", got, want)
			}
			if !strings.Contains(fe.Error(), strings.TrimSpace(fe.RedisBlock())) || !strings.Contains(fe.Error(), f) {
				t.Fatalf("Error() lacks the file name or the block: %q", fe.Error())
			}
		})
	}
}
