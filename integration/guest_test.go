package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A guest is one host of the matrix yoroi's users run, booted as a Debian bookworm VM
// under QEMU's TCG (this machine cannot nest KVM) from the image scripts/guest-image.sh
// builds (make caches it under bin/): kernel 6.1, systemd, AppArmor, SELinux's default
// policy. The tests of hosts_test.go (and others that depend on the host) run inside, from
// a payload disk the host builds for each run; their verbose output comes back on the
// guest's second serial port. The guests have no network device.
type guest struct {
	name string
	// kernel is the Debian kernel it boots: "6.1" (bookworm's) or "6.12" (its backport).
	kernel string
	// cmdline are the kernel parameters that make this host what it is.
	cmdline string
	// tests must each pass inside (a skip there is a failure: the guest has the feature).
	tests []string
	// memory is the guest's RAM in MiB.
	memory int
}

var guests = []guest{
	{"apparmor-systemd", "6.1", "apparmor=1 security=apparmor",
		[]string{"TestAppArmorConfinesContainer", "TestAppArmorDockerDefault", "TestCgroupV2Limits", "TestCheckReportsHost",
			"TestRuncCompatibleCommandLine", "TestDocker", "TestContainerd16RuncShimWithYoroi"}, 1536},
	{"selinux-enforcing", "6.1", "security=selinux enforcing=1",
		[]string{"TestSELinuxConfinesContainers", "TestSELinuxUndefinedTypeRefused", "TestCheckReportsHost",
			"TestSELinuxPermissiveNotInForce"}, 1536},
	{"cgroupfs-no-systemd", "6.1", "apparmor=0 init=/usr/local/sbin/yoroi-guest",
		[]string{"TestNoAcceptedMACRefused", "TestCgroupV2Limits", "TestCheckReportsHost", "TestTmpfsVolume", "TestLandlockConfinesWorkload",
			"TestLandlockSymlinkToWritableMount", "TestLandlockMakeDevices", "TestLandlockConfinesExec"}, 1536},
	// Landlock ABI 6 (6.1 has 2, this host's kernel more).
	{"kernel-6.12", "6.12", "apparmor=0 init=/usr/local/sbin/yoroi-guest",
		[]string{"TestCheckReportsHost", "TestTmpfsVolume", "TestLandlockConfinesWorkload", "TestLandlockSymlinkToWritableMount",
			"TestLandlockMakeDevices", "TestLandlockConfinesExec", "TestCgroupV2Limits"}, 1536},
	// A Kubernetes node (etcd, kube-apiserver, containerd 2.4, kubelet) on cgroup v2 and
	// systemd, which the kubelet requires, with AppArmor; 6.12 id-maps tmpfs (the pods'
	// projected service-account volumes), which 6.1 cannot.
	{"kubernetes-node", "6.12", "apparmor=1 security=apparmor", []string{"TestKubernetesNode"}, 4096},
}

// guestRun is the shell script the guest runs from the payload disk.
const guestRun = `#!/bin/sh
name=$(sed -n 's/.*yoroi\.guest=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "yoroi-guest: $name up $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r), lsm $(cat /sys/kernel/security/lsm)"
export YOROI_BINARY=/payload/bin/yoroi INTEGRATION_PREBUILT=/payload/prebuilt TMPDIR=/var/tmp
export KUBERNETES_DIR=/payload/kubernetes CONTAINERD2_DIR=/payload/containerd CNI_BIN_DIR=/payload/cni DEPLOY_DIR=/payload/deploy/kubernetes
export PATH=/payload/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
if [ "$(cat /sys/fs/selinux/enforce 2>/dev/null)" = 1 ]; then
	# Labelled as distributions label runc (container_engine_exec_t), yoroi runs in
	# container_engine_t, which may start container_t processes.
	mkdir -p /usr/local/lib/yoroi && cp /payload/bin/* /usr/local/lib/yoroi/
	chcon -t container_engine_exec_t /usr/local/lib/yoroi/yoroi
	export YOROI_BINARY=/usr/local/lib/yoroi/yoroi
	# The tests' files where an engine keeps its state (container_var_lib_t).
	mkdir -p /var/lib/yoroi-tests && chcon -t container_var_lib_t /var/lib/yoroi-tests
	export TMPDIR=/var/lib/yoroi-tests
fi
echo "yoroi-guest: yoroi check"
yoroi check
cd /payload
./integration.test -test.v -test.count=1 -test.timeout 40m -test.run "$(cat /payload/tests-$name)"
status=$?
if [ $status -ne 0 ]; then
	echo "yoroi-guest: the kernel's last denials"
	dmesg | grep -E 'avc: |apparmor="DENIED"' | tail -40
fi
exit $status
`

func TestGuests(t *testing.T) {
	img := os.Getenv("GUEST_IMAGE")
	if img == "" {
		t.Fatal("GUEST_IMAGE is not set: run the integration tests with make integration (it builds the guest image)")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatalf("qemu-system-x86 is required (make deps installs it): %v", err)
	}
	payload := guestPayload(t)
	// Two cores: two guests at a time, one virtual CPU each.
	slots := make(chan struct{}, 2)
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			runGuest(t, img, payload, g)
		})
	}
}

// guestPayload builds the payload disk: yoroi and its shim, the integration tests as a
// binary, the programs setup would build, and the run script; for the Kubernetes node,
// the Kubernetes binaries, containerd 2.4, the host's CNI plugins and deploy/kubernetes.
func guestPayload(t *testing.T) string {
	t.Helper()
	k8s, d2 := makeEnv(t, "KUBERNETES_DIR"), makeEnv(t, "CONTAINERD2_DIR")
	dir := filepath.Join(t.TempDir(), "payload")
	for _, d := range []string{"bin", "prebuilt", "kubernetes", "containerd", "cni", "deploy"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copies := [][2]string{
		{yoroiBin, "bin/yoroi"},
		{filepath.Join(binDir(t), "containerd-shim-yoroi-v2"), "bin/containerd-shim-yoroi-v2"},
	}
	for _, p := range prebuiltPrograms {
		copies = append(copies, [2]string{filepath.Join(rootfsTemplate, "bin", p), "prebuilt/" + p})
	}
	for _, p := range []string{"kubelet", "kube-apiserver", "kubectl", "etcd"} {
		copies = append(copies, [2]string{filepath.Join(k8s, p), "kubernetes/" + p})
	}
	for _, p := range []string{"containerd", "ctr", "containerd-shim-runc-v2"} {
		copies = append(copies, [2]string{filepath.Join(d2, p), "containerd/" + p})
	}
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		copies = append(copies, [2]string{filepath.Join("/usr/lib/cni", p), "cni/" + p})
	}
	copies = append(copies, [2]string{"../deploy/kubernetes", "deploy/"})
	for _, c := range copies {
		if out, err := exec.Command("cp", "-r", c[0], filepath.Join(dir, c[1])).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	build := exec.Command("go", "test", "-c", "-tags", "seccomp urfave_cli_no_docs", "-o", filepath.Join(dir, "integration.test"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v: %s", err, out)
	}
	files := map[string]string{"run.sh": guestRun}
	for _, g := range guests {
		files["tests-"+g.name] = "^(" + strings.Join(g.tests, "|") + ")$"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	disk := filepath.Join(filepath.Dir(dir), "payload.img")
	if out, err := exec.Command("mke2fs", "-q", "-t", "ext4", "-d", dir, disk, "2G").CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v: %s", err, out)
	}
	return disk
}

var passLine = regexp.MustCompile(`(?m)^--- (PASS|FAIL|SKIP): (\S+)`)

// runGuest boots g with the payload, waits for it to power off (or kills it), and checks
// that each of its tests passed inside. The guest's output is kept in PEER_RESULTS.
func runGuest(t *testing.T, img, payload string, g guest) {
	dir := t.TempDir()
	console, results := filepath.Join(dir, "console.log"), filepath.Join(dir, "results.log")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", strconv.Itoa(g.memory),
		"-kernel", filepath.Join(img, "vmlinuz-"+g.kernel), "-initrd", filepath.Join(img, "initrd.img-"+g.kernel),
		"-append", "root=/dev/vda rw console=ttyS0 panic=-1 yoroi.guest="+g.name+" "+g.cmdline,
		// The image is shared: the guest's writes go to a temporary overlay.
		"-drive", "file="+filepath.Join(img, "root.img")+",format=raw,if=virtio,snapshot=on",
		"-drive", "file="+payload+",format=raw,if=virtio,readonly=on",
		"-nic", "none", "-display", "none", "-monitor", "none", "-no-reboot",
		"-serial", "file:"+console, "-serial", "file:"+results)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	data, _ := os.ReadFile(results)
	log := string(data)
	keepGuestLog(t, g.name, log, console)
	if err != nil {
		t.Errorf("qemu: %v: %s", err, out)
	}
	t.Logf("guest %s: %s in %v", g.name, firstLine(log), elapsed.Round(time.Second))
	m := regexp.MustCompile(`yoroi-guest: exit (\d+)`).FindStringSubmatch(log)
	if m == nil {
		cons, _ := os.ReadFile(console)
		t.Fatalf("the guest did not finish its run:\n%s\n--- console:\n%s", lastLines(log, 40), lastLines(string(cons), 40))
	}
	outcome := map[string]string{}
	for _, r := range passLine.FindAllStringSubmatch(log, -1) {
		outcome[r[2]] = r[1]
	}
	for _, name := range g.tests {
		if outcome[name] != "PASS" {
			t.Errorf("%s in guest %s: %q", name, g.name, outcome[name])
		}
	}
	if m[1] != "0" || t.Failed() {
		t.Errorf("guest %s: the tests exited %s:\n%s", g.name, m[1], log)
	}
}

// keepGuestLog writes the guest's test output and console beside the peers' results.
func keepGuestLog(t *testing.T, name, log, console string) {
	dir := os.Getenv("PEER_RESULTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "guest-"+name+".log"), []byte(log), 0o644); err != nil {
		t.Error(err)
	}
	if data, err := os.ReadFile(console); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "guest-"+name+".console"), data, 0o644)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return fmt.Sprintf("%q", strings.TrimSpace(line))
}
