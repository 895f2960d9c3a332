package hardening

import (
	"strings"
	"testing"
)

func TestFeatureAnnotations(t *testing.T) {
	landlock := MACFacts{LandlockABI: 7}
	cfg := Defaults()
	relaxed := DefaultPolicy()
	relaxed.Name = "relaxed"
	cfg.Profiles["relaxed"] = relaxed
	a := FeatureAnnotations(cfg, landlock)
	for key, want := range map[string]string{
		FeatureMACInForce:      "landlock",
		FeatureLandlockABI:     "7",
		FeatureLandlockMinABI:  "1",
		FeatureLandlockMode:    "launcher: rx on the read-only root",
		FeatureSeccompDefault:  "built-in allowlist",
		FeatureSeccompFloor:    "kexec_load",
		FeatureSeccompComplain: "false",
		FeatureTelemetry:       "seccomp-denials,exec",
		FeatureUserns:          "mandatory: a private 65536-id range",
		FeatureRootfs:          "read-only",
		FeatureNoNewPrivileges: "forced",
		FeaturePidsLimit:       "4096",
		FeatureProfiles:        "default,relaxed",
	} {
		if !strings.HasPrefix(a[key], want) && !strings.Contains(a[key], want) {
			t.Errorf("%s = %q, want %q", key, a[key], want)
		}
		if !strings.HasPrefix(key, "org.yoroi.") {
			t.Errorf("%s is not under org.yoroi.", key)
		}
	}
	// Nothing in force: said, not hidden.
	if got := FeatureAnnotations(cfg, MACFacts{})[FeatureMACInForce]; !strings.Contains(got, "refused") {
		t.Errorf("no MAC: %q", got)
	}
	// What the default policy relaxes shows.
	cfg.Default.Seccomp.AllowFloor = []string{"ptrace"}
	cfg.Default.Seccomp.Complain = true
	cfg.Audit.Enabled = false
	a = FeatureAnnotations(cfg, landlock)
	if strings.Contains(a[FeatureSeccompFloor], "ptrace") || a[FeatureSeccompComplain] != "true" || a[FeatureTelemetry] != "off" {
		t.Errorf("relaxed default: %v", a)
	}
}
