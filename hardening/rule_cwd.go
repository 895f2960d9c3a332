package hardening

import (
	"fmt"
	"path"
	"strings"
)

// kernelTrees are where a working directory can name something outside the container:
// /proc/self/fd/N and /proc/PID/cwd are magic links to whatever the runtime holds open
// (CVE-2024-21626 leaked a host cgroup directory this way), /dev/fd is the same links.
var kernelTrees = []string{"/proc", "/sys", "/dev"}

// checkCwd refuses a process.cwd that is not a clean absolute path inside the rootfs'
// own tree: one under /proc, /sys or /dev, or with ".." components. No legitimate
// workload starts there, so no profile can allow it.
func checkCwd(c *checker) error {
	cwd := c.spec.Process.Cwd
	if cwd == "" {
		c.kept("no working directory given (\"/\")")
		return nil
	}
	if !path.IsAbs(cwd) {
		return c.refuse(fmt.Sprintf("process.cwd %q is not an absolute path", cwd), "")
	}
	for _, el := range strings.Split(cwd, "/") {
		if el == ".." {
			return c.refuse(fmt.Sprintf("process.cwd %q has a \"..\" component", cwd), "")
		}
	}
	clean := path.Clean(cwd)
	for _, t := range kernelTrees {
		if clean == t || strings.HasPrefix(clean, t+"/") {
			return c.refuse(fmt.Sprintf("process.cwd %s is under %s, where a path can lead out of the container (CVE-2024-21626)", cwd, t), "")
		}
	}
	c.kept("working directory " + clean)
	return nil
}

// verifyCwd: the working directory is absolute, has no "..", and is not a kernel tree.
func verifyCwd(v *verifier) error {
	cwd := v.spec.Process.Cwd
	if cwd == "" {
		return nil
	}
	if cwd[0] != '/' || strings.Contains(cwd+"/", "/../") {
		return fmt.Errorf("working directory %q", cwd)
	}
	for _, t := range []string{"/proc", "/sys", "/dev"} {
		if c := path.Clean(cwd); c == t || strings.HasPrefix(c, t+"/") {
			return fmt.Errorf("working directory %s under %s", cwd, t)
		}
	}
	return nil
}
