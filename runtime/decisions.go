package runtime

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The decisions applied to a container, and the profile they came from, are labels of
// its libcontainer state, so that `yoroi state` (whose annotations are the labels, as
// runc's are) shows them while the container exists, as the audit log keeps them after.
const (
	decisionsLabel = "org.yoroi.decisions"
	profileLabel   = "org.yoroi.state.profile"
)

// withDecisions records the decisions in config's labels, in place of any label of the
// same name the spec's annotations brought: they are yoroi's to write.
func withDecisions(config *configs.Config, profile string, decisions []hardening.Decision) error {
	data, err := json.Marshal(decisions)
	if err != nil {
		return err
	}
	config.Labels = slices.DeleteFunc(config.Labels, func(l string) bool {
		return strings.HasPrefix(l, decisionsLabel+"=") || strings.HasPrefix(l, profileLabel+"=")
	})
	config.Labels = append(config.Labels, decisionsLabel+"="+string(data), profileLabel+"="+profile)
	return nil
}
