package redistest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPollErr(t *testing.T) {
	n := 0
	if err := PollErr(time.Second, time.Millisecond, func() error {
		n++
		if n < 3 {
			return ErrNotYet
		}
		return nil
	}); err != nil || n != 3 {
		t.Fatalf("err=%v n=%d", err, n)
	}
	calls := 0
	err := PollErr(time.Minute, time.Millisecond, func() error {
		calls++
		return Abort(ErrNotYet)
	})
	if !errors.Is(err, ErrNotYet) || calls != 1 {
		t.Fatalf("Abort: err=%v calls=%d", err, calls)
	}
	start := time.Now()
	err = PollErr(50*time.Millisecond, 10*time.Millisecond, func() error { return ErrNotYet })
	if !errors.Is(err, ErrNotYet) || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("err=%v after %v", err, time.Since(start))
	}
}

func TestFreePortIsBindable(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}

// processAlive reports whether pid exists (signal 0).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestRedisLifecycle(t *testing.T) {
	r := StartRedis(t, RedisOptions{Password: "pw"})
	c := r.Dial(t)
	if rep, err := c.Do("SET", "k", "v"); err != nil || rep.Str != "OK" {
		t.Fatalf("SET: %v %v", rep, err)
	}
	// The password is enforced.
	raw := MustDial(t, r.Addr())
	if rep, err := raw.Do("GET", "k"); err != nil || !strings.HasPrefix(rep.Str, "NOAUTH") {
		t.Fatalf("unauthenticated GET: %v %v", rep, err)
	}

	// Pause: the server accepts TCP but answers nothing.
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	c.Timeout = 200 * time.Millisecond
	if _, err := c.Do("PING"); err == nil {
		t.Fatal("paused server answered")
	}
	if err := r.Resume(); err != nil {
		t.Fatal(err)
	}
	c.Timeout = DefaultTimeout
	// The PING sent while paused is answered first.
	if rep, err := c.Read(); err != nil || rep.Str != "PONG" {
		t.Fatalf("after resume: %v %v", rep, err)
	}

	// Restart keeps the port; the data is gone (no persistence).
	pid := r.Pid()
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	if r.Pid() == pid || processAlive(pid) {
		t.Fatalf("old pid %d still there (new %d)", pid, r.Pid())
	}
	c2 := r.Dial(t)
	if rep, err := c2.Do("GET", "k"); err != nil || rep.Kind != KindNull {
		t.Fatalf("GET after restart: %v %v", rep, err)
	}

	// Kill by SIGKILL.
	pid = r.Pid()
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if r.Running() || processAlive(pid) {
		t.Fatal("killed process still running")
	}
	if !strings.Contains(r.Log(), "Ready to accept connections") {
		t.Fatalf("log does not have the server's output:\n%s", r.LogTail(20))
	}
}

func TestStopPausedProcess(t *testing.T) {
	r := StartRedis(t, RedisOptions{})
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	pid := r.Pid()
	if err := r.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Fatal("paused process survived Stop")
	}
}

func TestStartFailureShowsLog(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/bad.conf"
	if err := os.WriteFile(conf, []byte("port 1\nsentinel monitor\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, _ := FreePort()
	_, err := StartProcess(t, ProcessSpec{Name: "bad", Bin: RedisServerBin, Args: []string{conf}, Port: port})
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "FATAL CONFIG FILE ERROR") {
		t.Fatalf("err = %v", err)
	}
}

func TestTopologyReplicasOnline(t *testing.T) {
	tp := StartTopology(t, 2, RedisOptions{Password: "pw"})
	info, err := tp.Replicas[1].Info("replication")
	if err != nil {
		t.Fatal(err)
	}
	if info["role"] != "slave" || info["master_port"] != fmt.Sprint(tp.Master.Port()) || info["master_link_status"] != "up" {
		t.Fatalf("replica INFO: role=%s master_port=%s link=%s", info["role"], info["master_port"], info["master_link_status"])
	}
	if len(tp.Ports()) != 3 {
		t.Fatalf("Ports = %v", tp.Ports())
	}
}

func TestStartAsReplicaOf(t *testing.T) {
	tp := StartTopology(t, 1, RedisOptions{})
	master, replica := tp.Master, tp.Replicas[0]
	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	// The killed master comes back as a replica of its former replica...
	if err := master.StartAsReplicaOf("127.0.0.1", replica.Port()); err != nil {
		t.Fatal(err)
	}
	info, err := master.Info("replication")
	if err != nil {
		t.Fatal(err)
	}
	if info["role"] != "slave" || info["master_port"] != fmt.Sprint(replica.Port()) {
		t.Fatalf("restarted master: role=%s master_port=%s, want slave of %d", info["role"], info["master_port"], replica.Port())
	}
	// ...and the killed replica as a master, without its --replicaof.
	if err := replica.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := replica.StartAsReplicaOf("", 0); err != nil {
		t.Fatal(err)
	}
	if info, err = replica.Info("replication"); err != nil || info["role"] != "master" {
		t.Fatalf("restarted replica: role=%s (%v), want master", info["role"], err)
	}
}

func TestWithoutReplicaOf(t *testing.T) {
	got := withoutReplicaOf([]string{"--port", "1", "--replicaof", "h", "2", "--save", ""})
	if want := []string{"--port", "1", "--save", ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("withoutReplicaOf = %q, want %q", got, want)
	}
}
