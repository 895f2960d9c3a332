package hardening

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"
)

// Warned: the spec asks for something the policy advises against; it runs, and the
// decision (in the audit log and policy explain) says so.
const Warned Outcome = "warned"

// SecretsMode is [secrets] env: what an environment variable that looks like a credential
// gets.
type SecretsMode string

const (
	// SecretsWarn: a warned decision (audited, shown by policy explain); the process runs.
	SecretsWarn SecretsMode = "warn"
	// SecretsRefuse: the process does not run.
	SecretsRefuse SecretsMode = "refuse"
	// SecretsAllow: not checked.
	SecretsAllow SecretsMode = "allow"
)

// UnmarshalText parses the mode.
func (m *SecretsMode) UnmarshalText(text []byte) error {
	switch s := SecretsMode(text); s {
	case SecretsWarn, SecretsRefuse, SecretsAllow:
		*m = s
		return nil
	}
	return fmt.Errorf("%q is not one of warn, refuse, allow", text)
}

// Names that mark a variable as a credential (upper-cased name, path.Match patterns).
var secretNames = []string{
	"*PASSWORD*", "*PASSWD*", "*PASSPHRASE*", "*SECRET*", "*_TOKEN", "TOKEN", "*_TOKEN_*",
	"*API_KEY*", "*APIKEY*", "*ACCESS_KEY*", "*PRIVATE_KEY*", "*CREDENTIAL*", "*AUTH_KEY*",
}

// Names that hold where a secret is, not the secret (Docker's and Kubernetes' *_FILE
// convention), never flagged by their name.
var secretReferenceSuffixes = []string{"_FILE", "_PATH", "_DIR", "_FILENAME", "_LOCATION"}

// secretValues are values that are credentials whatever the variable's name, and what
// they are. Each expression is compiled when a value first passes its cheap test (most
// environments have none that do; every yoroi process would compile them at start).
var secretValues = []secretValue{
	{"an AWS access key id", prefixed("AKIA", "ASIA"), lazyRegexp(`^(AKIA|ASIA)[0-9A-Z]{16}$`)},
	{"a GitHub token", prefixed("gh", "github_pat_"), lazyRegexp(`^(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})$`)},
	{"a GitLab token", prefixed("glpat-"), lazyRegexp(`^glpat-[A-Za-z0-9_-]{20,}$`)},
	{"a Slack token", prefixed("xox"), lazyRegexp(`^xox[abposr]-[0-9A-Za-z-]{10,}$`)},
	{"a Google API key", prefixed("AIza"), lazyRegexp(`^AIza[0-9A-Za-z_-]{35}$`)},
	{"a Stripe secret key", prefixed("sk_live_", "rk_live_"), lazyRegexp(`^[sr]k_live_[0-9A-Za-z]{20,}$`)},
	{"a private key", containing("PRIVATE KEY-----"), lazyRegexp(`-----BEGIN ([A-Z]+ )?PRIVATE KEY-----`)},
	{"a JSON web token", prefixed("eyJ"), lazyRegexp(`^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$`)},
	{"a URL with a password", containing("://", "@"), lazyRegexp(`^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)},
}

type secretValue struct {
	what string
	// may is true of every value re matches (FuzzSecretValueTests holds it to that).
	may func(string) bool
	re  func() *regexp.Regexp
}

func (v secretValue) matches(value string) bool { return v.may(value) && v.re().MatchString(value) }

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// prefixed: the value starts with one of prefixes.
func prefixed(prefixes ...string) func(string) bool {
	return func(v string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
		return false
	}
}

// containing: the value contains every one of parts.
func containing(parts ...string) func(string) bool {
	return func(v string) bool {
		for _, p := range parts {
			if !strings.Contains(v, p) {
				return false
			}
		}
		return true
	}
}

// secretReason says why NAME=VALUE looks like a credential ("" if it does not). It never
// returns the value or any part of it.
func secretReason(name, value string, extra []string) string {
	if value == "" {
		return ""
	}
	for _, v := range secretValues {
		if v.matches(value) {
			return "its value is " + v.what
		}
	}
	upper := strings.ToUpper(name)
	for _, suffix := range secretReferenceSuffixes {
		if strings.HasSuffix(upper, suffix) {
			return ""
		}
	}
	for _, pattern := range append(append([]string(nil), secretNames...), extra...) {
		if ok, _ := path.Match(strings.ToUpper(pattern), upper); ok {
			return "its name matches " + pattern
		}
	}
	return ""
}

// checkEnvSecrets: secrets must not be passed in the environment (it is inherited by
// every child, shown by /proc/PID/environ to the same user, dumped in crash reports and
// `docker inspect`); a variable that looks like a credential is warned about or refused
// (secrets.env), by its name or its value. The value is never recorded.
func checkEnvSecrets(c *checker) error {
	mode := c.policy.Secrets.Env
	if mode == SecretsAllow {
		c.relaxed("environment not checked for credentials (secrets.env = allow)")
		return nil
	}
	var found []string
	for _, kv := range c.spec.Process.Env {
		name, value, _ := strings.Cut(kv, "=")
		if slicesContainsFold(c.policy.Secrets.AllowNames, name) {
			continue
		}
		if why := secretReason(name, value, c.policy.Secrets.Names); why != "" {
			found = append(found, name+" ("+why+")")
		}
	}
	if len(found) == 0 {
		c.kept("no environment variable looks like a credential")
		return nil
	}
	what := "environment variable " + strings.Join(found, ", ") + " looks like a credential: pass secrets as files (a mounted secret)"
	if len(found) > 1 {
		what = "environment variables " + strings.Join(found, ", ") + " look like credentials: pass secrets as files (a mounted secret)"
	}
	if mode == SecretsRefuse {
		return c.refuse(what, "secrets.env")
	}
	c.record(Warned, what, "", "")
	return nil
}

func slicesContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// verifyEnvSecrets: where secrets.env refuses, no variable looks like a credential.
func verifyEnvSecrets(v *verifier) error {
	pol := v.policy.Secrets
	if pol.Env != SecretsRefuse {
		return nil
	}
	for _, kv := range v.spec.Process.Env {
		name, value, _ := strings.Cut(kv, "=")
		if !slicesContainsFold(pol.AllowNames, name) && secretReason(name, value, pol.Names) != "" {
			return fmt.Errorf("environment variable %s looks like a credential", name)
		}
	}
	return nil
}
