package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		if err := os.RemoveAll(buildDir); err != nil {
			fmt.Fprintln(os.Stderr, "remove build dir:", err)
		}
	}
	os.Exit(code)
}

// gosentinelBinary builds cmd/gosentinel from this checkout once per test
// binary run, in the root module (its own go.mod and versions).
func gosentinelBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "deploy-tests-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		bin := filepath.Join(dir, "gosentinel")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/gosentinel")
		cmd.Dir = filepath.Dir(deployDir(t))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/gosentinel: " + err.Error() + "\n" + string(out))
			return
		}
		builtBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestManifestCommandsExist: every exec command of the StatefulSet that runs
// gosentinel names a subcommand the freshly built binary has, and only flags
// its --help documents.
func TestManifestCommandsExist(t *testing.T) {
	m := render(t, filepath.Join(deployDir(t), "kustomize", "base"))
	sts := named(t, m.statefulSets, statefulSet)
	bin := gosentinelBinary(t)
	var checked int
	for _, c := range sts.Spec.Template.Spec.Containers {
		for _, argv := range execCommands(c) {
			if len(argv) == 0 || argv[0] != "gosentinel" {
				continue
			}
			checked++
			checkSubcommand(t, c, bin, argv)
		}
	}
	if checked != 3 {
		t.Errorf("checked %d gosentinel commands, want 3 (startup and liveness probes, preStop)", checked)
	}
}

func checkSubcommand(t *testing.T, c corev1.Container, bin string, argv []string) {
	t.Helper()
	if len(argv) < 2 || strings.HasPrefix(argv[1], "-") {
		t.Errorf("%s: %v names no subcommand", c.Name, argv)
		return
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, argv[1], "--help")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
		t.Errorf("%s: gosentinel %s --help: %v\n%s", c.Name, argv[1], err, out.String())
		return
	}
	help := out.String()
	if !strings.Contains(help, "gosentinel "+argv[1]) {
		t.Errorf("%s: gosentinel %s --help does not describe the subcommand:\n%s", c.Name, argv[1], help)
		return
	}
	for _, arg := range argv[2:] {
		if strings.HasPrefix(arg, "-") && !strings.Contains(help, arg+" ") {
			t.Errorf("%s: %v: flag %s is not in gosentinel %s --help:\n%s", c.Name, argv, arg, argv[1], help)
		}
	}
}
