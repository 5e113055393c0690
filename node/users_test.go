package node

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
)

// TestUserLineErrorsMatchRedis starts a node on every `user` case of
// config's testdata/errors (captured from redis-sentinel 7.0.15, with the
// same --port override): the ACL engine refuses the line, and the error is
// redis' fatal block naming it, as for the loader's own errors.
func TestUserLineErrorsMatchRedis(t *testing.T) {
	files, err := filepath.Glob("../config/testdata/errors/user-*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no user error cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".conf"), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".conf") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(f, [][]string{{"port", "21299"}})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			n, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				n.Close()
				t.Fatal("New accepted the config")
			}
			var fe *config.FatalError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v, want a *config.FatalError", err)
			}
			if got := fe.RedisBlock(); got != string(want) {
				t.Fatalf("block mismatch\n got: %q\nwant: %q", got, want)
			}
			if !strings.Contains(fe.Error(), cfg.Path) {
				t.Fatalf("Error() lacks the file name: %q", fe.Error())
			}
		})
	}
}

// TestGoldenUserLines starts a node on every config testdata/golden input
// (captured from redis-sentinel 7.0.15) and checks that the `user` lines
// its rewrite writes, the ACL engine's description of the users, are the
// ones redis wrote. config's TestGoldenRewrites checks where they go.
func TestGoldenUserLines(t *testing.T) {
	dirs, err := filepath.Glob("../config/testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, d := range dirs {
		d, err := filepath.Abs(d)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(d), func(t *testing.T) {
			read := func(name string) string {
				b, err := os.ReadFile(filepath.Join(d, name))
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				return string(b)
			}
			input, want := read("input.conf"), read("expected.conf")
			overrides := [][]string{{"port", strings.TrimSpace(read("port"))}}
			for _, l := range strings.Split(read("overrides.txt"), "\n") {
				if w := strings.Fields(l); len(w) > 0 {
					overrides = append(overrides, w)
				}
			}
			tmp := t.TempDir()
			for _, m := range strings.Fields(read("mkdirs")) {
				if err := os.MkdirAll(filepath.Join(tmp, m), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			conf := filepath.Join(tmp, "sentinel.conf")
			if err := os.WriteFile(conf, []byte(input), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(tmp)
			cfg, err := config.Load(conf, overrides)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			n, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer n.Close()
			got := userLines(string(config.Render(n.buildConfig(), []byte(input))))
			if w := userLines(want); !slices.Equal(got, w) {
				t.Fatalf("user lines\n got: %q\nwant: %q", got, w)
			}
		})
	}
}

// userLines returns the `user` lines of a config file's text, sorted.
func userLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "user ") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
