// testprog is a small static program copied into test bundles, for what busybox cannot
// do from inside a container: sd_notify over a datagram socket, calling syscalls
// directly, serving HTTP.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testprog notify STATE | syscalls | http ADDR | getppid N | syscall N getppid|personality|socket | denied N | exec N PROGRAM | open N PATH | probe NAME | ptrace-attach PID | overwrite-exe SECONDS | euid | seccomp-listener | whiteout-under-landlock DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "notify":
		// sd_notify: one datagram to $NOTIFY_SOCKET.
		addr := &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"}
		conn, err := net.DialUnix("unixgram", nil, addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "notify:", err)
			os.Exit(1)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte(os.Args[2])); err != nil {
			fmt.Fprintln(os.Stderr, "notify:", err)
			os.Exit(1)
		}
	case "syscalls":
		// One line per syscall: its name and the errno it returned (0: it ran).
		for _, c := range probes() {
			fmt.Printf("%s %d\n", c.name, c.call())
		}
	case "getppid":
		// Syscall cost: N getppid calls, printed as nanoseconds per call.
		n, _ := strconv.Atoi(os.Args[2])
		start := time.Now()
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(n))
	case "syscall":
		// Syscall cost by kind: N raw calls of one probe, printed as nanoseconds per call.
		n, _ := strconv.Atoi(os.Args[2])
		call, ok := costProbes[os.Args[3]]
		if !ok {
			fmt.Fprintln(os.Stderr, "syscall: unknown probe", os.Args[3])
			os.Exit(2)
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			call()
		}
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(n))
	case "denied":
		// Denied-syscall cost: N calls of kexec_load (always denied), ns per call.
		n, _ := strconv.Atoi(os.Args[2])
		start := time.Now()
		for i := 0; i < n; i++ {
			_, _, _ = syscall.RawSyscall(syscall.SYS_KEXEC_LOAD, 0, 0, 0)
		}
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(n))
	case "exec":
		// Execve cost: N runs (fork, execve, wait) of PROGRAM [ARG...], microseconds per run.
		n, _ := strconv.Atoi(os.Args[2])
		start := time.Now()
		for i := 0; i < n; i++ {
			if err := exec.Command(os.Args[3], os.Args[4:]...).Run(); err != nil {
				fmt.Fprintln(os.Stderr, "exec:", err)
				os.Exit(1)
			}
		}
		fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/float64(n))
	case "open":
		// Open cost: N open+close of PATH (Landlock checks each open), ns per open.
		n, _ := strconv.Atoi(os.Args[2])
		start := time.Now()
		for i := 0; i < n; i++ {
			fd, err := syscall.Open(os.Args[3], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "open:", err)
				os.Exit(1)
			}
			syscall.Close(fd)
		}
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(n))
	case "euid":
		// The effective uid: a setuid copy shows whether setuid took effect.
		fmt.Printf("euid=%d\n", os.Geteuid())
	case "probe":
		// One syscall of probes(), by name: prints its errno and exits 0.
		for _, c := range probes() {
			if c.name == os.Args[2] {
				fmt.Println(int(c.call()))
				return
			}
		}
		fmt.Fprintln(os.Stderr, "unknown probe", os.Args[2])
		os.Exit(2)
	case "ptrace-attach":
		// PTRACE_ATTACH to a pid: prints the errno (0: attached).
		pid, _ := strconv.Atoi(os.Args[2])
		_, _, e := syscall.RawSyscall6(syscall.SYS_PTRACE, syscall.PTRACE_ATTACH, uintptr(pid), 0, 0, 0, 0)
		fmt.Println(int(e))
	case "overwrite-exe":
		// CVE-2019-5736: watch for processes entering the container (a runtime's exec)
		// and try to open their executable for writing.
		secs, _ := strconv.Atoi(os.Args[2])
		overwriteExe(time.Duration(secs) * time.Second)
	case "seccomp-listener":
		// Installs an allow-all filter with a user-notification listener of its own, as a
		// seccomp agent in the container would: prints the errno (0: installed).
		fmt.Println(int(installListenerFilter()))
	case "whiteout-under-landlock":
		whiteoutUnderLandlock(os.Args[2])
	case "http":
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello from a static Go server") })
		if err := http.ListenAndServe(os.Args[2], nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

// costProbes are the calls "syscall N PROBE" times, raw (no Go scheduler hand-off):
// getppid is allowed by its number alone, which the kernel caches per filter (a constant
// allow is never run again); personality(0xffffffff) only queries, and socket(AF_UNIX)
// of an invalid type fails at once, but both are allowed by their arguments, so every
// call runs the whole filter.
var costProbes = map[string]func(){
	"getppid": func() { _, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0) },
	"personality": func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PERSONALITY, 0xffffffff, 0, 0)
	},
	"socket": func() { _, _, _ = syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_UNIX, 0xff, 0) },
	// clone3 with no arguments: a filter's ENOSYS (glibc's first try at every thread), or
	// the kernel's EINVAL without a filter.
	"clone3": func() { _, _, _ = syscall.RawSyscall(435, 0, 0, 0) },
}
