package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImageHelperLibraries checks the contract of our Bitnami helper
// libraries (deploy/image/rootfs/opt/bitnami/scripts) as the chart's scripts
// use them, inside the image's file tree as uid 1001: each case is a bash
// snippet and the exact stdout it must print.
func TestImageHelperLibraries(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the image's file tree under chroot as uid 1001 and must run as root")
	}
	img, err := openImage(builtImage(t))
	if err != nil {
		t.Fatal(err)
	}
	pod := &chartPod{name: "libs", root: filepath.Join(t.TempDir(), "root")}
	if err := img.unpackLayer(pod.root); err != nil {
		t.Fatal(err)
	}
	pod.env = append(append([]string{}, img.config.Config.Env...), "HOME=/tmp")
	const libs = ". /opt/bitnami/scripts/libos.sh; . /opt/bitnami/scripts/libvalidations.sh; . /opt/bitnami/scripts/libfile.sh; cd /tmp\n"

	for _, tc := range []struct {
		name, script, want string
	}{{
		name:   "is_boolean_yes",
		script: `for v in yes YES true True 1 no 0 false "" x 2; do is_boolean_yes "$v" && echo "$v:y" || echo "$v:n"; done`,
		want:   "yes:y\nYES:y\ntrue:y\nTrue:y\n1:y\nno:n\n0:n\nfalse:n\n:n\nx:n\n2:n\n",
	}, {
		name:   "is_boolean_no",
		script: `for v in no NO false 0 yes 1 ""; do is_boolean_no "$v" && echo "$v:y" || echo "$v:n"; done`,
		want:   "no:y\nNO:y\nfalse:y\n0:y\nyes:n\n1:n\n:n\n",
	}, {
		// The chart captures stdout of functions that log: logs go to
		// stderr only; debug only with BITNAMI_DEBUG.
		name: "logs on stderr, debug gated",
		script: `out=$(info i; warn w; error e; debug d); echo "stdout=[$out]"
			info hello 2>&1 | grep -c ' INFO  ==> hello$'
			debug hidden 2>&1 | wc -l
			BITNAMI_DEBUG=true debug shown 2>&1 | grep -c ' DEBUG ==> shown$'
			BITNAMI_QUIET=yes error quiet 2>&1 | wc -l`,
		want: "stdout=[]\n1\n0\n1\n0\n",
	}, {
		// The command runs in the calling shell (functions see and set its
		// variables), its stdout passes through, and it is word-split.
		name: "retry_while succeeds",
		script: `n=0; f() { n=$((n + 1)); [ "$n" -ge "$1" ] && echo "done at $n"; }
			retry_while "f 3" 5 0; echo "rc=$? n=$n"`,
		want: "done at 3\nrc=0 n=3\n",
	}, {
		name:   "retry_while gives up after RETRIES",
		script: `n=0; f() { n=$((n + 1)); return 1; }; retry_while f 4 0; echo "rc=$? n=$n"`,
		want:   "rc=1 n=4\n",
	}, {
		// start-sentinel.sh's form: "eval VAR=\$X cmd ..." with the value
		// expanded by eval, not by retry_while.
		name:   "retry_while eval",
		script: `P='p w'; X=secret; info=($(retry_while "eval V=\$X env" 2 0 | grep '^V=')); echo "${info[@]}"`,
		want:   "V=secret\n",
	}, {
		name:   "retry_while waits between tries",
		script: `s=$EPOCHSECONDS; retry_while false 2 1; e=$EPOCHSECONDS; echo $(( e - s >= 1 ))`,
		want:   "1\n",
	}, {
		// sentinel_conf_set: GNU basic regex (\s), the replacement escaped
		// for sed (& \ ?), a value with "/", the file's inode kept (a hard
		// link sees the change).
		name: "replace_in_file as sentinel_conf_set",
		script: `printf 'port 1\n# sentinel monitor old h 1 2\nlast' > c; ln c c2
			replace_in_file c '^#*\s*sentinel monitor .*' 'sentinel monitor m a\&b/c 6379 2' false
			cat c2; echo "|"`,
		want: "port 1\nsentinel monitor m a&b/c 6379 2\nlast\n|\n",
	}, {
		name:   "replace_in_file extended regex by default",
		script: `echo 'aaa-b' > f; replace_in_file f '(a)+-' 'X'; cat f`,
		want:   "Xb\n",
	}, {
		name:   "remove_in_file",
		script: `printf 'keep\ndrop me\nkeep too\n' > f; remove_in_file f '^drop'; cat f`,
		want:   "keep\nkeep too\n",
	}, {
		name:   "libraries source twice",
		script: libs + `echo ok`,
		want:   "ok\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code, err := pod.run(10*time.Second, nil, "/bin/bash", "-c", libs+tc.script)
			if err != nil || code != 0 || out != tc.want {
				t.Errorf("stdout %q, want %q; status %d, %v; stderr %q", out, tc.want, code, err, strings.TrimSpace(errOut))
			}
		})
	}
}
