package integration

import (
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

const secretsProfiles = `
[profiles.test-refuse-secrets.secrets]
env = "refuse"
`

// A credential in the environment is warned about by default and refused where a profile
// says so, for create and exec alike; its value never reaches the audit log or the
// refusal.
func TestEnvSecrets(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + secretsProfiles)
	const password, key = "hunter2-correct-horse", "AKIAIOSFODNN7EXAMPLE"

	// Warned: it runs, and the decision says which variable and why.
	b := e.newBundle("sh", "-c", `test -n "$DB_PASSWORD" && echo ran`).edit(t, func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "DB_PASSWORD="+password, "SETTINGS="+key, "DB_PASSWORD_FILE=/run/secrets/db")
	})
	id := uniqueID("secrets-warn")
	if out := e.ok("run", "--bundle", b.dir, id); strings.TrimSpace(out) != "ran" {
		t.Fatalf("warned container: %q", out)
	}
	d := decisionsOf(e, id, "process.env")
	if !strings.HasPrefix(d, "warned: ") || !strings.Contains(d, "DB_PASSWORD (its name matches *PASSWORD*)") || !strings.Contains(d, "SETTINGS (its value is an AWS access key id)") || strings.Contains(d, "DB_PASSWORD_FILE") {
		t.Errorf("decision: %s", d)
	}

	// Refused by the profile: one line naming the rule and the key, nothing left behind.
	b.edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-refuse-secrets"}
	})
	id = uniqueID("secrets-refuse")
	r := e.fails("refused by rule process.env: environment variables DB_PASSWORD", "run", "--bundle", b.dir, id)
	if !strings.Contains(r.stderr, "secrets.env") {
		t.Errorf("refusal without its key: %q", r.stderr)
	}
	e.assertNoLeftovers(id)

	// exec: the same rule for a process exec'd into a running container.
	running := e.newBundle("sleep", "1000").edit(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{hardening.ProfileAnnotation: "test-refuse-secrets"}
	})
	id = uniqueID("secrets-exec")
	e.ok("run", "-d", "--bundle", running.dir, id)
	t.Cleanup(func() { e.run("delete", "-f", id) })
	e.fails("refused by rule process.env", "exec", "--env", "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789", id, "true")
	e.ok("exec", "--env", "GITHUB_TOKEN_FILE=/run/secrets/gh", id, "true")

	for _, secret := range []string{password, key, "ghp_abcdefghijklmnopqrstuvwxyz0123456789"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("the refusal shows a secret")
		}
		if data, err := os.ReadFile(e.audit); err != nil || strings.Contains(string(data), secret) {
			t.Errorf("the audit log holds a secret (err %v)", err)
		}
	}
}
