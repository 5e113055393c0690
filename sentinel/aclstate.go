package sentinel

import (
	"fmt"
	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"slices"
	"strings"
	"time"
)

// aclLogMaxLen is acllog-max-len's default.
const aclLogMaxLen = 128

// aclLogGroupWindow groups similar denials into one entry (ms).
const aclLogGroupWindow = 60 * time.Second

// aclState is the user table and the ACL log. Guarded by Server.mu.
type aclState struct {
	tbl         *commandTable
	denied      [aclDeniedChannel + 1]int64 // denials by reason (Server.mu)
	nextLogID   int64                       // the next ACL LOG entry-id (Server.mu)
	users       map[string]*aclUser
	defaultUser *aclUser
	log         []*aclLogEntry // newest first
}

type aclLogEntry struct {
	id       int64     // entry-id (7.2 on): the log's running count
	created  time.Time // timestamp-created (7.2 on)
	count    int64
	reason   aclResult
	object   string
	username string
	ctime    time.Time
	cinfo    string
}

func newACLState(tbl *commandTable) *aclState {
	du := newUser(tbl, "default")
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		_ = du.setOp(op)
	}
	return &aclState{tbl: tbl, users: map[string]*aclUser{"default": du}, defaultUser: du}
}

// setDefaultPassword implements requirepass (ACLUpdateDefaultUserPassword).
func (a *aclState) setDefaultPassword(pass string) {
	_ = a.defaultUser.setOp("resetpass")
	_ = a.defaultUser.setOp(">" + pass)
}

// sortedUsers returns the users in name (byte) order, like redis' rax.
func (a *aclState) sortedUsers() []*aclUser {
	out := make([]*aclUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y *aclUser) int { return strings.Compare(x.name, y.name) })
	return out
}

// setUser applies rules to user name (creating it if needed) atomically:
// on the first bad rule nothing changes (ACLStringSetUser). It returns the
// error text to reply, and the user's previous channel permissions for
// the caller to disconnect subscribers that lost access.
func (a *aclState) setUser(name string, args []string) (prev *aclUser, updated *aclUser, errText string) {
	merged, bad := aclsyntax.MergeSelectorArgs(args)
	if merged == nil && bad >= 0 {
		return nil, nil, fmt.Sprintf("Unmatched parenthesis in acl selector starting at '%s'.", cstr(args[bad]))
	}
	u := a.users[name]
	temp := newUser(a.tbl, name)
	if u != nil {
		temp = u.clone()
	}
	for _, op := range merged {
		if err := temp.setOp(op); err != nil {
			return nil, nil, fmt.Sprintf("Error in ACL SETUSER modifier '%s': %s", cstr(op), err.Error())
		}
	}
	if u == nil {
		u = newUser(a.tbl, name)
		a.users[name] = u
	} else {
		prev = u.clone()
	}
	u.copyFrom(temp)
	return prev, u, ""
}

// loadUserLines applies `user` config lines at startup: every line is
// checked first (checkUserLines), then the users are built in order, the
// default user being reset first when redefined (ACLLoadConfiguredUsers).
func (a *aclState) loadUserLines(lines [][]string) error {
	if err := checkUserLines(a.tbl, lines); err != nil {
		return err
	}
	for _, line := range lines {
		name := line[0]
		merged, _ := aclsyntax.MergeSelectorArgs(line[1:]) // checked above
		if hasSpaces(name) {
			return fmt.Errorf("spaces not allowed in ACL usernames")
		}
		u := a.users[name]
		if u == nil {
			u = newUser(a.tbl, name)
			a.users[name] = u
		} else {
			_ = u.setOp("reset")
		}
		for _, op := range merged {
			if err := u.setOp(op); err != nil {
				return fmt.Errorf("error loading ACL rule '%s' for the user named '%s': %s", op, name, err)
			}
		}
	}
	return nil
}

// addLog records a denial (addACLLogEntry), merging it into a similar
// recent entry when there is one among the last ten. Requires Server.mu.
func (a *aclState) addLog(c *client, reason aclResult, object, username string) {
	// INFO's acl_access_denied_* (7.2 on) count every denial, as
	// addACLLogEntry does.
	a.denied[reason]++
	now := time.Now()
	e := &aclLogEntry{id: a.nextLogID, created: now, count: 1, reason: reason, object: object, username: username, ctime: now, cinfo: c.infoString(now, c)}
	for i, cur := range a.log {
		if i >= 10 {
			break
		}
		d := cur.ctime.Sub(now)
		if d < 0 {
			d = -d
		}
		if cur.reason == e.reason && d <= aclLogGroupWindow && cur.object == e.object && cur.username == e.username {
			cur.cinfo, cur.ctime = e.cinfo, e.ctime
			cur.count++
			a.log = append([]*aclLogEntry{cur}, slices.Delete(a.log, i, i+1)...)
			return
		}
	}
	a.nextLogID++
	a.log = append([]*aclLogEntry{e}, a.log...)
	if len(a.log) > aclLogMaxLen {
		a.log = a.log[:aclLogMaxLen]
	}
}

// aclLogObject is what a denial logs: the command name, or the offending
// channel argument.
func aclLogObject(res aclResult, cmd *command, argv []string, pos int) string {
	switch res {
	case aclDeniedCmd:
		return cmd.name
	case aclDeniedChannel, aclDeniedKey:
		return argv[pos]
	}
	return ""
}

func (r aclResult) logReason() string {
	switch r {
	case aclDeniedCmd:
		return "command"
	case aclDeniedKey:
		return "key"
	case aclDeniedChannel:
		return "channel"
	case aclDeniedAuth:
		return "auth"
	}
	return "unknown"
}
