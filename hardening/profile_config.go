package hardening

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RecordedRun is what `yoroi profile record` learnt from one run of a workload.
type RecordedRun struct {
	// Name is the profile to write; ID and Bundle the container recorded.
	Name, ID, Bundle string
	At               time.Time
	// Base is the policy the run was recorded under (its root made writable).
	Base *Policy
	// Syscalls are the syscalls made; Written the directories written in on the root
	// filesystem ("/" for the root directory itself); Executed the files executed; Read
	// the files of the root filesystem opened.
	Syscalls, Written, Executed, Read []string
}

// RecordedConfig is the config.toml profile an administrator pastes to run the recorded
// workload on a read-only root: a scratch tmpfs starting with the image's content at each
// directory it wrote in (rootfs.scratch_copy, beside the base policy's), and its syscalls
// as seccomp.syscalls. Nothing is relaxed: what would need a relaxation (writing in "/"
// itself, executing from a written directory) is said in comments, not written as keys.
func RecordedConfig(r RecordedRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Recorded by yoroi profile record on %s: container %s, bundle %s.\n", r.At.Format(time.RFC3339), r.ID, r.Bundle)
	fmt.Fprintf(&b, "# Paste into config.toml; a container selects it with the annotation %s=%s.\n", ProfileAnnotation, r.Name)
	if r.Base != nil && r.Base.Name != "" && r.Base.Name != DefaultProfile {
		fmt.Fprintf(&b, "# Recorded under profile %s, whose other settings are not repeated here.\n", r.Base.Name)
	}
	var covered, copies []string
	if r.Base != nil {
		covered = slices.Concat(r.Base.Rootfs.Scratch, r.Base.Rootfs.ScratchCopy)
		copies = slices.Clone(r.Base.Rootfs.ScratchCopy)
	}
	var added []string
	for _, w := range r.Written {
		if w == "/" {
			b.WriteString("# It wrote in the root directory itself, which no scratch path can cover: it needs\n")
			b.WriteString("# rootfs.readonly = false (not set here) or an image that does not write there.\n")
			continue
		}
		if slices.ContainsFunc(covered, func(s string) bool { return w == s || strings.HasPrefix(w, s+"/") }) {
			continue
		}
		covered = append(covered, w)
		copies = append(copies, w)
		added = append(added, w)
	}
	if len(added) > 0 {
		b.WriteString("# It wrote beneath " + strings.Join(added, ", ") + ": each becomes a scratch tmpfs\n")
		b.WriteString("# (nosuid, nodev, noexec, rootfs.scratch_size) that starts with the image's content.\n")
	}
	for _, e := range r.Executed {
		if at := slices.IndexFunc(added, func(s string) bool { return strings.HasPrefix(e, s+"/") }); at >= 0 {
			fmt.Fprintf(&b, "# It executed %s, beneath the scratch path %s, which is noexec: it needs\n", e, added[at])
			b.WriteString("# mounts.allow_exec and mac.landlock_exec_writable (not set here).\n")
		}
	}
	if len(r.Executed) > 0 {
		b.WriteString("# files.exec: what it executed (the program, interpreters, the dynamic loader);\n")
		b.WriteString("# files.read: the image's files it read (name a directory to cover all beneath). Every\n")
		b.WriteString("# process of the container (an exec'd shell too) is held to them: add what else\n")
		b.WriteString("# must run or be read.\n")
	}
	key := r.Name
	if len(added) > 0 {
		fmt.Fprintf(&b, "\n[profiles.%s.rootfs]\nscratch_copy = %s\n", key, tomlList(copies, "  "))
	}
	if len(r.Executed) > 0 {
		fmt.Fprintf(&b, "\n[profiles.%s.files]\nexec = %s\n", key, tomlList(r.Executed, "  "))
		if len(r.Read) > 0 {
			read := slices.Concat(r.Read, r.Executed)
			slices.Sort(read)
			fmt.Fprintf(&b, "read = %s\n", tomlList(slices.Compact(read), "  "))
		}
	}
	fmt.Fprintf(&b, "\n[profiles.%s.seccomp]\nsyscalls = %s\n", key, tomlList(r.Syscalls, "  "))
	return b.String()
}

// ProfileNameValid reports whether name can name a profile in config.toml.
func ProfileNameValid(name string) bool { return validProfileName(name) && name != DefaultProfile }

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlList is a TOML array of strings, on one line when short, else one line per few.
func tomlList(items []string, indent string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = tomlString(s)
	}
	if one := "[" + strings.Join(quoted, ", ") + "]"; len(one) <= 80 {
		return one
	}
	var b strings.Builder
	b.WriteString("[\n")
	line := indent
	for _, q := range quoted {
		if len(line)+len(q)+2 > 88 && line != indent {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		}
		line += q + ", "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n]")
	return b.String()
}
