package sentinel

import "time"

// Pause types of CLIENT PAUSE, ordered like redis' (a stronger pause wins).
const (
	pauseOff = iota
	pauseWrite
	pauseAll
)

// pauseState is the CLIENT PAUSE state. Guarded by Server.mu. Sentinel has
// no write commands: an ALL pause holds every command back, a WRITE pause
// only those that may replicate (PUBLISH).
type pauseState struct {
	typ  int
	end  time.Time
	wake chan struct{} // closed when the pause changes
}

// set merges a new pause into the current one (pauseClients keeps the
// stronger type and the later end).
func (p *pauseState) set(typ int, end time.Time) {
	p.typ = max(p.typ, typ)
	if end.After(p.end) {
		p.end = end
	}
	p.notify()
}

// clear ends the pause (CLIENT UNPAUSE).
func (p *pauseState) clear() {
	p.typ, p.end = pauseOff, time.Time{}
	p.notify()
}

func (p *pauseState) notify() {
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

// changed returns a channel closed at the next change of the pause.
func (p *pauseState) changed() <-chan struct{} {
	if p.wake == nil {
		p.wake = make(chan struct{})
	}
	return p.wake
}

// remaining returns how long a command must still wait, or 0;
// mayReplicate is whether a WRITE pause holds it.
func (p *pauseState) remaining(now time.Time, mayReplicate bool) time.Duration {
	holds := p.typ == pauseAll || p.typ == pauseWrite && mayReplicate
	if !holds || !now.Before(p.end) {
		if p.typ != pauseOff && !now.Before(p.end) {
			p.typ, p.end = pauseOff, time.Time{}
		}
		return 0
	}
	return p.end.Sub(now)
}
