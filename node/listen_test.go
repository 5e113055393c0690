package node

import (
	"errors"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
)

// `bind ""` leaves no address; an absent bind is every one. listen took the
// two alike and opened every interface where the user meant none.
func TestEmptyBindListensNowhere(t *testing.T) {
	cfg, err := config.Parse("s.conf", []byte("bind \"\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lns, err := listen(cfg, 0)
	for _, l := range lns {
		t.Errorf("listening on %s after bind \"\"", l.Addr())
		l.Close()
	}
	if !errors.Is(err, errListenNowhere) {
		t.Errorf("listen: %v, want errListenNowhere", err)
	}
}
