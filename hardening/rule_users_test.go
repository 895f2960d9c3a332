package hardening

import "testing"

func TestCheckUsers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		uid, gid  uint32
		addGids   []uint32
		allowUIDs IDSpans
		denyUIDs  IDSpans
		denyGIDs  IDSpans
		want      Outcome
		key       string
	}{
		{"no lists", 0, 0, nil, nil, nil, nil, Kept, ""},
		{"denied uid", 0, 0, nil, nil, IDSpans{{0, 0}}, nil, Refused, "users.deny_uids"},
		{"uid in allowed range", 1500, 0, nil, IDSpans{{1000, 1999}}, nil, nil, Kept, ""},
		{"uid outside allowed range", 2000, 0, nil, IDSpans{{1000, 1999}}, nil, nil, Refused, "users.allow_uids"},
		{"denied additional gid", 1000, 1000, []uint32{0}, nil, nil, IDSpans{{0, 10}}, Refused, "users.deny_gids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Users = UsersPolicy{AllowUIDs: tc.allowUIDs, DenyUIDs: tc.denyUIDs, DenyGIDs: tc.denyGIDs}
			s := minimalSpec()
			s.Process.User.UID, s.Process.User.GID, s.Process.User.AdditionalGids = tc.uid, tc.gid, tc.addGids
			_, d, err := runRule(t, checkUsers, s, p, HostFacts{})
			wantOutcome(t, d, err, tc.want, tc.key)
		})
	}
	for _, bad := range []string{"5-1", "x", "-1", "1-", "4294967296"} {
		var r IDSpan
		if err := r.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("id range %q accepted as %v", bad, r)
		}
	}
}
