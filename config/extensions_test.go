package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every GOSENTINEL_ environment variable the server reads is in
// Extensions (so --help names it), and every variable in Extensions is
// read somewhere: one list, checked against the code.
func TestExtensionsNameEveryVariableTheServerReads(t *testing.T) {
	listed := map[string]bool{}
	for _, e := range Extensions {
		if e.Env != "" {
			listed[e.Env] = true
		}
		if e.Meaning == "" || e.Default == "" || (e.Env == "" && e.Directive == "") {
			t.Errorf("incomplete extension %+v", e)
		}
	}
	// The variables are named through the Env* constants of this package
	// or as literals; collect the constants' values first.
	consts := map[string]string{}
	src, err := os.ReadFile("extensions.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(Env[A-Za-z]+)\s*=\s*"(GOSENTINEL_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		consts[m[1]] = m[2]
	}
	read := map[string]string{}
	literal := regexp.MustCompile(`Getenv\("(GOSENTINEL_[A-Z_]+)"\)|LookupEnv\("(GOSENTINEL_[A-Z_]+)"\)`)
	// config.EnvX elsewhere, or Getenv(EnvX) in this package itself.
	viaConst := regexp.MustCompile(`config\.(Env[A-Za-z]+)\b|Getenv\((Env[A-Za-z]+)\)`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "test", "bench", "testdata", "deploy", ".git", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			read[m[1]+m[2]] = path
		}
		for _, m := range viaConst.FindAllStringSubmatch(string(b), -1) {
			if v, ok := consts[m[1]+m[2]]; ok {
				read[v] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for v, path := range read {
		if !listed[v] {
			t.Errorf("%s reads %s, which config.Extensions does not list", path, v)
		}
	}
	for v := range listed {
		if _, ok := read[v]; !ok {
			t.Errorf("config.Extensions lists %s, which no code reads", v)
		}
	}
}
