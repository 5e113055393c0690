package test

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// TestClientsLeaveDescriptorsForLinks: under an open files limit of 64, a
// sentinel keeps maxclients 32 below it (redis' adjustOpenFilesLimit),
// turns a client past it away with redis' error, and with idle clients
// holding all it allows still redials a master that restarted. gosentinel
// kept maxclients at 10000: a hundred idle connections took every
// descriptor, the redial failed, and the master, back within a second
// and a half, was reported +sdown and +odown and failed over; a new
// client hung without an answer.
func TestClientsLeaveDescriptorsForLinks(t *testing.T) {
	forEachTarget(t, func(t *testing.T, bin string) {
		tp := redistest.StartTopology(t, 0, redistest.RedisOptions{})
		// Without CAP_SYS_RESOURCE, as in a container: root could raise
		// the limit again, and redis does when it can.
		wrap := []string{"setpriv", "--bounding-set=-sys_resource", "--inh-caps=-sys_resource", "--", "prlimit", "--nofile=64:64", "--"}
		s := redistest.StartSentinels(t, 1, redistest.SentinelOptions{Bin: bin, MasterPort: tp.Master.Port(), Quorum: 1,
			DownAfter: 5 * time.Second, Wrap: wrap})[0]
		const reduced = "Current maximum open files is 64. maxclients has been reduced to 32 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
		if !strings.Contains(s.Log(), reduced) {
			t.Fatalf("no %q in the log:\n%s", reduced, s.LogTail(20))
		}
		// Our own client first, then idle ones until the sentinel turns
		// them away.
		own := s.Dial(t)
		var idle []net.Conn
		t.Cleanup(func() {
			for _, c := range idle {
				c.Close()
			}
		})
		refused := 0
		for range 100 {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, c)
		}
		// Every connection past the limit is told so and closed; those
		// within it are kept, and see nothing.
		type read struct {
			b   []byte
			err error
		}
		reads := make(chan read, len(idle))
		for _, c := range idle {
			go func() {
				c.SetReadDeadline(time.Now().Add(time.Second))
				b, err := io.ReadAll(c)
				reads <- read{b, err}
			}()
		}
		for range idle {
			r := <-reads
			switch {
			case string(r.b) == "-ERR max number of clients reached\r\n" && r.err == nil:
				refused++
			case len(r.b) > 0:
				t.Fatalf("an idle connection read %q (%v)", r.b, r.err)
			}
		}
		if refused < 100-32 {
			t.Fatalf("%d of 100 idle connections turned away with maxclients 32", refused)
		}

		// The master restarts well within down-after: the sentinel must
		// reach it again with the descriptors the clients left.
		if err := tp.Master.Restart(); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		err := redistest.PollErr(5*time.Second, 50*time.Millisecond, func() error {
			r, err := own.Do("SENTINEL", "MASTER", redistest.DefaultMasterName)
			if err != nil {
				return redistest.Abort(err)
			}
			m, err := r.StringMap()
			if err != nil {
				return redistest.Abort(err)
			}
			if strings.Contains(m["flags"], "s_down") {
				return redistest.Abort(fmt.Errorf("the restarted master is reported down: flags %s", m["flags"]))
			}
			ok, _ := strconv.Atoi(m["last-ok-ping-reply"])
			if m["link-pending-commands"] != "0" || time.Duration(ok)*time.Millisecond > time.Since(restarted) {
				return fmt.Errorf("no PING answered since the restart: last-ok-ping-reply %s ms, link-pending-commands %s", m["last-ok-ping-reply"], m["link-pending-commands"])
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, s.LogTail(20))
		}
		t.Logf("%d of 100 idle connections turned away; the master answered again %v after its restart", refused, time.Since(restarted).Round(time.Millisecond))
	})
}
