package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// RecordOutputs are where `yoroi profile record` writes what it learnt.
type RecordOutputs struct {
	// Seccomp receives the OCI seccomp profile of the syscalls made (JSON).
	Seccomp string
	// Profile receives a config.toml profile: the syscalls, and scratch paths where the
	// workload wrote on its root filesystem.
	Profile string
	// ProfileName names that profile (default: the container id).
	ProfileName string
}

// Record runs a container (in the foreground, as Run) while learning what it does: the
// syscalls it makes (a recording seccomp filter, the deny floor still denied), the
// directories it writes in on its root filesystem (a writable overlay, discarded) and
// the files it executes (fanotify). Every other rule applies as for run.
func (r *Runtime) Record(o CreateOptions, out RecordOutputs) (int, error) {
	if out.Seccomp == "" && out.Profile == "" {
		return -1, errors.New("profile record needs --output or --toml")
	}
	for _, p := range []*string{&out.Seccomp, &out.Profile} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return -1, err
		}
		*p = abs
	}
	if out.ProfileName == "" {
		out.ProfileName = o.ID
	}
	if out.Profile != "" && !hardening.ProfileNameValid(out.ProfileName) {
		return -1, fmt.Errorf("profile record: %q cannot name a profile (lowercase letters, digits, - and _, not \"default\"): set --profile-name", out.ProfileName)
	}
	o.Detach, o.Keep, o.record = false, false, &out
	return r.startContainer(o, actRun)
}

// recording is one `profile record` run: the seccomp agent and the filesystem recorder,
// and what is needed to make sense of what they saw.
type recording struct {
	out      RecordOutputs
	id       string
	bundle   string
	policy   *hardening.Policy
	syscalls *recorder
	fs       *fsRecording
	// image is the root filesystem as the bundle gives it, to tell what the workload
	// created from what the image had; ids are how the container's view maps owners.
	image string
	ids   idShift
	// mounts are the container paths of the spec's mounts: mount points, not writes.
	mounts []string
}

// startRecording replaces the hardened spec's seccomp profile by the recording one, its
// root by a writable overlay of it, and starts both recorders. The caller closes it.
func (r *Runtime) startRecording(id, bundle, image string, h *hardened, out RecordOutputs) (_ *recording, retErr error) {
	plan := h.plan
	rec := &recording{out: out, id: id, bundle: bundle, policy: h.policy, image: image}
	defer func() {
		if retErr != nil {
			rec.close()
		}
	}()
	names, err := syscallNames()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(r.root, yoroiDir, "record")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, id+".sock")
	_ = os.Remove(sock)
	if rec.syscalls, err = newRecorder(sock); err != nil {
		return nil, err
	}
	plan.UseSeccomp("profile-record", hardening.RecordingSeccomp(hostArch, names, sock), "every syscall goes to the recording agent, which lets it run (the deny floor stays denied)")

	lower := plan.Spec.Root.Path
	merged := filepath.Join(r.stagingDir(id), "record")
	if err := r.makeTraversable(r.stagingDir(id)); err != nil {
		return nil, err
	}
	if rec.fs, err = startFSRecording(filepath.Join(dir, id), lower, merged); err != nil {
		return nil, err
	}
	plan.StageRoot("profile-record", lower, merged, "a writable overlay of the root filesystem whose writes are recorded, then discarded")
	rec.ids.uid, rec.ids.gid = h.idMappings()
	for _, m := range plan.Spec.Mounts {
		rec.mounts = append(rec.mounts, containerPath(image, m.Destination))
	}
	return rec, nil
}

// finish writes what was recorded, once the container is gone.
func (rec *recording) finish() error {
	syscalls, err := rec.syscalls.recorded()
	if err != nil {
		return err
	}
	executed, opened, err := rec.fs.stopExec()
	if err != nil {
		return fmt.Errorf("recording executed files: %w", err)
	}
	written, err := rec.fs.written(rec.image, rec.mounts, rec.ids)
	if err != nil {
		return fmt.Errorf("recording written paths: %w", err)
	}
	if rec.out.Seccomp != "" {
		data, err := json.MarshalIndent(hardening.RecordedProfile(hostArch, syscalls), "", "  ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(rec.out.Seccomp, append(data, '\n')); err != nil {
			return err
		}
	}
	if rec.out.Profile != "" {
		toml := hardening.RecordedConfig(hardening.RecordedRun{
			Name: rec.out.ProfileName, ID: rec.id, Bundle: rec.bundle, At: time.Now().UTC(),
			Base: rec.policy, Syscalls: syscalls, Written: written, Executed: executed, Read: opened,
		})
		if err := writeFileAtomic(rec.out.Profile, []byte(toml)); err != nil {
			return err
		}
	}
	return nil
}

// close releases both recorders (the agent's socket, the overlay's layers).
func (rec *recording) close() {
	if rec.syscalls != nil {
		_, _ = rec.syscalls.recorded()
	}
	if rec.fs != nil {
		rec.fs.close()
	}
}

// writeFileAtomic writes data to a temporary file renamed over path, so that a reader
// never sees half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".yoroi-profile-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
