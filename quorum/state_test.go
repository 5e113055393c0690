package quorum

import (
	"reflect"
	"testing"
)

func TestMasterRenameMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rename [][2]string
		want   map[string]string
	}{
		{"nothing renamed", nil, nil},
		{"upper-cased originals", [][2]string{{"config", "MYCONFIG"}, {"SlaveOf", "so"}}, map[string]string{"CONFIG": "MYCONFIG", "SLAVEOF": "so"}},
		{"the new name kept as given", [][2]string{{"PING", "pInG2"}}, map[string]string{"PING": "pInG2"}},
	} {
		m := &Master{Settings: Settings{RenameCommands: tc.rename}}
		if got := m.RenameMap(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
