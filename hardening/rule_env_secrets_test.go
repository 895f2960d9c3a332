package hardening

import (
	"strings"
	"testing"
)

func TestSecretReason(t *testing.T) {
	for _, tc := range []struct {
		kv     string
		secret bool
	}{
		{"MYSQL_PASSWORD=hunter2", true},
		{"mysql_root_password=hunter2", true},
		{"AWS_SECRET_ACCESS_KEY=abc", true},
		{"DJANGO_SECRET_KEY=abc", true},
		{"GITHUB_TOKEN=abc", true},
		{"TOKEN=abc", true},
		{"STRIPE_API_KEY=abc", true},
		{"GOOGLE_APPLICATION_CREDENTIALS_JSON={}", true},
		{"SSH_PRIVATE_KEY=abc", true},
		{"X=AKIAIOSFODNN7EXAMPLE", true},
		{"X=ghp_abcdefghijklmnopqrstuvwxyz0123456789", true},
		{"X=glpat-abcdefghij0123456789", true},
		{"X=xoxb-1234567890-abcdef", true},
		{"X=AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", true},
		{"X=sk_live_abcdefghijklmnopqrstuvwx", true},
		{"X=-----BEGIN OPENSSH PRIVATE KEY-----\nabc", true},
		{"X=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true},
		{"DATABASE_URL=postgres://app:hunter2@db:5432/app", true},
		// Not credentials.
		{"PATH=/usr/bin:/bin", false},
		{"PWD=/", false},
		{"HOME=/root", false},
		{"POSTGRES_PASSWORD_FILE=/run/secrets/db", false},
		{"SECRETS_DIR=/run/secrets", false},
		{"MYSQL_PASSWORD=", false},
		{"TOKENIZERS_PARALLELISM=false", false},
		{"DATABASE_URL=postgres://db:5432/app", false},
		{"KUBERNETES_SERVICE_HOST=10.0.0.1", false},
		{"X=AKIA-not-a-key", false},
	} {
		name, value, _ := strings.Cut(tc.kv, "=")
		why := secretReason(name, value, nil)
		if (why != "") != tc.secret {
			t.Errorf("%s: %q, want secret %v", name, why, tc.secret)
		}
		if why != "" && value != "" && strings.Contains(why, value) {
			t.Errorf("%s: the reason %q shows the value", name, why)
		}
	}
	if secretReason("MY_PIN", "1234", []string{"*_pin"}) == "" {
		t.Error("an administrator's name pattern is not applied")
	}
}

func TestCheckEnvSecrets(t *testing.T) {
	refuse, allow, exempt := DefaultPolicy(), DefaultPolicy(), DefaultPolicy()
	refuse.Secrets.Env = SecretsRefuse
	allow.Secrets.Env = SecretsAllow
	exempt.Secrets.AllowNames = []string{"mysql_password"}
	for _, tc := range []struct {
		name   string
		env    []string
		policy *Policy
		want   Outcome
		key    string
	}{
		{"clean", []string{"PATH=/bin", "HOME=/"}, DefaultPolicy(), Kept, ""},
		{"warned by default", []string{"PATH=/bin", "MYSQL_PASSWORD=hunter2"}, DefaultPolicy(), Warned, ""},
		{"refused where the profile says", []string{"MYSQL_PASSWORD=hunter2"}, refuse, Refused, "secrets.env"},
		{"by value", []string{"CONFIG=AKIAIOSFODNN7EXAMPLE"}, refuse, Refused, "secrets.env"},
		{"a reference to a file is fine", []string{"MYSQL_PASSWORD_FILE=/run/secrets/db"}, refuse, Kept, ""},
		{"not checked where allowed", []string{"MYSQL_PASSWORD=hunter2"}, allow, Relaxed, ""},
		{"an exempt name", []string{"MYSQL_PASSWORD=hunter2"}, exempt, Kept, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Process.Env = tc.env
			out, d, err := runRule(t, checkEnvSecrets, s, tc.policy, HostFacts{})
			wantOutcome(t, d, err, tc.want, tc.key)
			for _, dec := range d {
				if strings.Contains(dec.Detail, "hunter2") || strings.Contains(dec.Detail, "AKIAIOSFODNN7EXAMPLE") {
					t.Errorf("a decision shows the secret: %q", dec.Detail)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "AKIA")) {
				t.Errorf("the refusal shows the secret: %v", err)
			}
			if err == nil {
				if verr := verifyEnvSecrets(&verifier{spec: out, policy: tc.policy}); verr != nil {
					t.Errorf("verify: %v", verr)
				}
			}
		})
	}
}

// FuzzSecretValueTests: each value's cheap test is true of everything its expression
// matches, so that skipping the expression never misses a credential.
func FuzzSecretValueTests(f *testing.F) {
	for _, v := range []string{
		"AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_abcdefghijklmnopqrstuvwxyz",
		"glpat-abcdefghij0123456789", "xoxb-1234567890-abcdef", "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
		"rk_live_abcdefghijklmnopqrstuvwx", "x -----BEGIN RSA PRIVATE KEY----- y",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"postgres://app:hunter2@db:5432/app", "PATH=/usr/bin", "",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, v := range secretValues {
			if v.re().MatchString(value) && !v.may(value) {
				t.Fatalf("%s: %q matches the expression but not the cheap test", v.what, value)
			}
		}
	})
}
