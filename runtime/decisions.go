package runtime

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The decisions applied to a container, and the profile they came from, are kept in
// yoroi's state beside libcontainer's while the container exists (the audit log keeps
// them after), and `yoroi state` shows them among the state's annotations. They are not
// labels of libcontainer's state: those are the annotations every OCI hook and seccomp
// agent is sent, where a few kilobytes more break agents that read one page (runc's own).
const (
	decisionsAnnotation = "org.yoroi.decisions"
	profileAnnotation   = "org.yoroi.state.profile"
)

type appliedDecisions struct {
	Profile   string               `json:"profile"`
	Decisions []hardening.Decision `json:"decisions"`
}

func (r *Runtime) decisionsPath(id string) string {
	return filepath.Join(r.root, yoroiDir, "decisions", id+".json")
}

// writeDecisions keeps the decisions of container id; removeDecisions undoes it.
func (r *Runtime) writeDecisions(id, profile string, decisions []hardening.Decision) error {
	data, err := json.Marshal(appliedDecisions{Profile: profile, Decisions: decisions})
	if err != nil {
		return err
	}
	path := r.decisionsPath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

func (r *Runtime) removeDecisions(id string) error {
	if err := os.Remove(r.decisionsPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// withDecisions adds container id's decisions to annotations (yoroi's own keys, whatever
// the spec's annotations held under them).
func (r *Runtime) withDecisions(id string, annotations map[string]string) map[string]string {
	delete(annotations, decisionsAnnotation)
	delete(annotations, profileAnnotation)
	data, err := os.ReadFile(r.decisionsPath(id))
	if err != nil {
		return annotations
	}
	var d appliedDecisions
	if json.Unmarshal(data, &d) != nil {
		return annotations
	}
	list, err := json.Marshal(d.Decisions)
	if err != nil {
		return annotations
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[decisionsAnnotation] = string(list)
	annotations[profileAnnotation] = d.Profile
	return annotations
}
