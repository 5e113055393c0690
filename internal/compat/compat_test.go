package compat

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Profile
		ok   bool
	}{
		{"7.0", V70, true}, {"7.0.15", V70, true}, {"8.0", V80, true}, {"8.0.2", V80, true},
		{"", "", false}, {"7", "", false}, {"7.2", "", false}, {"8.0.3", "", false}, {" 8.0", "", false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestProfileQuestions(t *testing.T) {
	if V70.RedisVersion() != "7.0.15" || V80.RedisVersion() != "8.0.2" {
		t.Fatal("versions")
	}
	if V70.MultiConfig() || !V80.MultiConfig() || V70.ConfigLoglevel() || !V80.ConfigLoglevel() {
		t.Fatal("config behaviours")
	}
	if V70.ACLKeepsCommandRules() || !V80.ACLKeepsCommandRules() {
		t.Fatal("ACL command rules: rebuilt in 7.0, kept as given from 7.2")
	}
	if Default != V70 {
		t.Fatal("the default must stay 7.0: every existing deployment and test is against 7.0.15")
	}
}
