package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKubernetesNode runs a real Kubernetes node: etcd, kube-apiserver, containerd 2.4 with
// yoroi's RuntimeClass handler and a kubelet, all on loopback, and applies the manifests
// of deploy/kubernetes/ with kubectl. The kubelet wants cgroup v2 and systemd: it runs in
// the kubernetes-node guest (guest_test.go), which has no network device.
func TestKubernetesNode(t *testing.T) {
	if !cgroupV2Only() || !systemdRunning() {
		t.Skip("the kubelet needs cgroup v2 and systemd; this host has neither (it runs in the kubernetes-node guest)")
	}
	n := startKubernetesNode(t, makeEnv(t, "KUBERNETES_DIR"))

	// The manifests as a user applies them: the RuntimeClass and the pods. No scheduler
	// runs here: the test binds each pod to the node, as kube-scheduler would.
	deploy := os.Getenv("DEPLOY_DIR")
	if deploy == "" {
		deploy = "../deploy/kubernetes"
	}
	n.kubectl("apply", "-f", filepath.Join(deploy, "runtimeclass.yaml"))
	n.kubectl("apply", "-f", filepath.Join(deploy, "pods.yaml"))
	for _, pod := range []string{"hardened", "hardened-userns", "refused"} {
		n.bind(pod)
	}
	for _, pod := range []string{"hardened", "hardened-userns"} {
		n.kubectl("wait", "--for=condition=Ready", "pod/"+pod, "--timeout=600s")
		t.Logf("pod %s Ready", pod)
		out := n.kubectl("exec", pod, "--", "sh", "-c", podProbe)
		t.Logf("pod %s, from inside:\n%s", pod, out)
		// The AppArmor profile is containerd's (cri-containerd.apparmor.d) or yoroi's, enforced.
		for _, want := range []string{"CapEff:00000000000004fb", "NoNewPrivs:1", "Seccomp:2", "rootfs=read-only", " (enforce)"} {
			if !strings.Contains(out, want) {
				t.Errorf("pod %s: %q missing from the container's view:\n%s", pod, want, out)
			}
		}
		var inside, host, size int
		if _, err := fmt.Sscan(strings.TrimPrefix(firstLineOf(out), "uid_map="), &inside, &host, &size); err != nil || inside != 0 || host < 65536 || size != 65536 {
			t.Errorf("pod %s: want a user namespace mapping 65536 ids from a non-root host id:\n%s", pod, out)
		}
		if logs := n.kubectl("logs", pod); !strings.Contains(logs, "started") {
			t.Errorf("kubectl logs %s: %q", pod, logs)
		}
	}
	// The refused pod never starts; its events carry yoroi's line.
	n.waitFor(func() bool {
		out := n.kubectl("get", "events", "--field-selector", "involvedObject.name=refused", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, "refused by rule privileged") && strings.Contains(out, "privileged.allow")
	}, "the refused pod's event with yoroi's refusal")
	for _, pod := range []string{"hardened", "hardened-userns", "refused"} {
		n.kubectl("delete", "pod", pod, "--wait", "--timeout=300s")
	}
	if out, err := runClient(n.ctr, "--address", n.sock, "-n", "k8s.io", "tasks", "ls", "-q"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("tasks left after the pods were deleted: %v %q", err, out)
	}
}

// podProbe prints, from inside a pod, what yoroi enforces: its user namespace, capabilities,
// no_new_privs, seccomp, read-only root, and its AppArmor profile (the guest has AppArmor).
const podProbe = `echo "uid_map=$(tr -s ' ' < /proc/self/uid_map)"
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t'
touch /yoroi-probe 2>/dev/null && echo rootfs=writable || echo rootfs=read-only
echo "lsm=$(cat /proc/self/attr/current)"
`

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// kubeNode is the node's daemons and how to reach them.
type kubeNode struct {
	t          *testing.T
	dir        string
	kubectlBin string
	kubeconfig string
	ctr, sock  string
}

const (
	kubeNodeName = "yoroi-node"
	// kubeNodeIP is the node's address: the guest has no network device, and the kubelet
	// takes no loopback address, so this one is added to lo (the API server reaches the
	// kubelet there for exec and logs).
	kubeNodeIP = "10.99.0.1"
)

func (n *kubeNode) kubectl(args ...string) string {
	n.t.Helper()
	out, err := runClientEnv([]string{"KUBECONFIG=" + n.kubeconfig}, n.kubectlBin, args...)
	if err != nil {
		n.t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return out
}

// bind assigns a pod to the node (what kube-scheduler does).
func (n *kubeNode) bind(pod string) {
	n.t.Helper()
	binding := filepath.Join(n.dir, "binding-"+pod+".json")
	content := fmt.Sprintf(`{"apiVersion": "v1", "kind": "Binding", "metadata": {"name": %q}, "target": {"apiVersion": "v1", "kind": "Node", "name": %q}}`, pod, kubeNodeName)
	if err := os.WriteFile(binding, []byte(content), 0o644); err != nil {
		n.t.Fatal(err)
	}
	n.kubectl("create", "--raw", "/api/v1/namespaces/default/pods/"+pod+"/binding", "-f", binding)
}

func (n *kubeNode) waitFor(cond func() bool, what string) {
	n.t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Second)
	}
}

// startKubernetesNode starts etcd, kube-apiserver, containerd and the kubelet, and waits for
// the node to be Ready.
func startKubernetesNode(t *testing.T, k8s string) *kubeNode {
	t.Helper()
	testImages(t)
	dir := privateDir(t)
	pki := writeKubePKI(t, filepath.Join(dir, "pki"))
	const token = "yoroi-test-token"
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokens := write("tokens.csv", token+",admin,admin,system:masters\n")
	kubeconfig := write("kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`, pki.ca, token))

	etcdDir := filepath.Join(dir, "etcd")
	etcd := launchDaemon(t, "etcd", etcdDir, nil, filepath.Join(k8s, "etcd"), "--data-dir", etcdDir,
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "default=http://127.0.0.1:2380")
	etcd.waitFor("tcp", "127.0.0.1:2379")
	t.Logf("etcd serving")

	api := launchDaemon(t, "kube-apiserver", filepath.Join(dir, "apiserver"), nil, filepath.Join(k8s, "kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379", "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", "6443", "--tls-cert-file", pki.apiCert, "--tls-private-key-file", pki.apiKey,
		"--client-ca-file", pki.ca, "--token-auth-file", tokens, "--authorization-mode", "AlwaysAllow",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", pki.saPub,
		"--service-account-signing-key-file", pki.saKey, "--service-cluster-ip-range", "10.96.0.0/24",
		// No endpoint reconciler on loopback; no cluster to aggregate.
		"--endpoint-reconciler-type", "none", "--enable-aggregator-routing=false",
		// The refused pod is privileged: the API server lets it through to the node.
		"--allow-privileged=true",
		// The kubelet is reached at the node's address (no name resolves here).
		"--kubelet-preferred-address-types", "InternalIP")
	api.waitFor("tcp", "127.0.0.1:6443")
	t.Logf("kube-apiserver listening")

	ctrd := startNodeContainerd(t, filepath.Join(dir, "containerd"))
	n := &kubeNode{t: t, dir: dir, kubectlBin: filepath.Join(k8s, "kubectl"), kubeconfig: kubeconfig, ctr: ctrd.ctr, sock: ctrd.sock}
	n.waitFor(func() bool {
		out, err := runClientEnv([]string{"KUBECONFIG=" + kubeconfig}, n.kubectlBin, "get", "--raw", "/readyz")
		return err == nil && strings.TrimSpace(out) == "ok"
	}, "kube-apiserver ready")
	t.Logf("kube-apiserver ready")
	// What kube-controller-manager would create: the namespace's service account and
	// the cluster's CA bundle, which the kubelet projects into pods.
	n.kubectl("create", "serviceaccount", "default")
	n.kubectl("create", "configmap", "kube-root-ca.crt", "--from-file=ca.crt="+pki.ca)

	kubeletDir := filepath.Join(dir, "kubelet")
	if err := os.MkdirAll(kubeletDir, 0o755); err != nil {
		t.Fatal(err)
	}
	resolv := write("resolv.conf", "nameserver 127.0.0.1\n")
	cfg := write("kubelet.yaml", fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
failSwapOn: false
address: %s
readOnlyPort: 0
resolvConf: %s
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {"memory.available": "0%%", "nodefs.available": "0%%", "imagefs.available": "0%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`, kubeNodeIP, resolv))
	if out, err := runClient("busybox", "ip", "addr", "add", kubeNodeIP+"/32", "dev", "lo"); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = runClient("busybox", "ip", "addr", "del", kubeNodeIP+"/32", "dev", "lo") })
	launchDaemon(t, "kubelet", kubeletDir, nil, filepath.Join(k8s, "kubelet"),
		"--config", cfg, "--kubeconfig", kubeconfig, "--root-dir", kubeletDir,
		"--container-runtime-endpoint", "unix://"+ctrd.sock, "--hostname-override", kubeNodeName,
		"--node-ip", kubeNodeIP, "--cert-dir", filepath.Join(kubeletDir, "pki"))
	n.waitFor(func() bool {
		out, err := runClientEnv([]string{"KUBECONFIG=" + kubeconfig}, n.kubectlBin, "get", "node", kubeNodeName,
			"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True"
	}, "the node Ready")
	t.Logf("node %s Ready", kubeNodeName)
	return n
}

// nodeContainerdConfig: containerd 2.4's CRI with deploy/kubernetes/containerd-2.x.toml's
// handler, its sandbox image imported, a CNI bridge on a private subnet.
const nodeContainerdConfig = containerd2Header + `[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "` + pauseRef + `"
[plugins."io.containerd.cri.v1.runtime"]
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi]
    runtime_type = "io.containerd.yoroi.v2"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["%[2]s"]
    conf_dir = "%[1]s/cni"
`

func startNodeContainerd(t *testing.T, dir string) *containerd {
	t.Helper()
	d2, cni := makeEnv(t, "CONTAINERD2_DIR"), makeEnv(t, "CNI_BIN_DIR")
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		t.Fatal(err)
	}
	const bridge, subnet = "yoroi-k8s", "10.88.4.0/24"
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-yoroi.conflist"), []byte(fmt.Sprintf(cniConfig, bridge, subnet, filepath.Join(dir, "cni-ipam"))), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(nodeContainerdConfig, dir, cni)), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "containerd.sock")
	c := &containerd{ctr: filepath.Join(d2, "ctr"), sock: sock, v2: true}
	c.daemon = startDaemon(t, "containerd (node)", dir, []string{"PATH=" + binDir(t) + ":" + d2 + ":/usr/sbin:/usr/bin:/sbin:/bin"}, sock,
		filepath.Join(d2, "containerd"), "--config", cfg)
	for _, img := range []string{images.busybox, images.pause} {
		if out, err := c.run("-n", "k8s.io", "images", "import", img); err != nil {
			t.Fatalf("import %s: %v: %s", img, err, out)
		}
	}
	// The pods' image, by the name the manifests use.
	if out, err := c.run("-n", "k8s.io", "images", "tag", busyboxRef, "docker.io/library/busybox:1.37"); err != nil {
		t.Fatalf("tag: %v: %s", err, out)
	}
	return c
}

// kubePKI are the files of the node's small PKI.
type kubePKI struct{ ca, apiCert, apiKey, saKey, saPub string }

// writeKubePKI makes a CA, kube-apiserver's serving certificate for 127.0.0.1, and the
// service-account signing key.
func writeKubePKI(t *testing.T, dir string) kubePKI {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := kubePKI{ca: filepath.Join(dir, "ca.crt"), apiCert: filepath.Join(dir, "apiserver.crt"), apiKey: filepath.Join(dir, "apiserver.key"),
		saKey: filepath.Join(dir, "sa.key"), saPub: filepath.Join(dir, "sa.pub")}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "yoroi-test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	apiKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	apiTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default.svc"}}
	apiDER, err := x509.CreateCertificate(rand.Reader, apiTmpl, caCert, &apiKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	apiKeyDER, err := x509.MarshalECPrivateKey(apiKey)
	if err != nil {
		t.Fatal(err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for path, block := range map[string]*pem.Block{
		p.ca:      {Type: "CERTIFICATE", Bytes: caDER},
		p.apiCert: {Type: "CERTIFICATE", Bytes: apiDER},
		p.apiKey:  {Type: "EC PRIVATE KEY", Bytes: apiKeyDER},
		p.saKey:   {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)},
		p.saPub:   {Type: "PUBLIC KEY", Bytes: saPubDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
