package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// overwriteExe is the attack of CVE-2019-5736: a process that enters the container
// from outside (the runtime's init during exec, or the Landlock launcher) has the
// runtime binary as /proc/PID/exe; opening that for writing, directly or by re-opening
// an O_PATH descriptor through /proc/self/fd once the runtime has exec'd away, would let
// the container overwrite the host's runtime. It prints how many other processes it saw,
// how many executables it could open at all, and how many it could open for writing (it
// never writes: a success is the finding).
func overwriteExe(d time.Duration) {
	self := os.Getpid()
	seen := map[int]bool{}
	opened, writable := 0, 0
	var lastErr error
	for end := time.Now().Add(d); time.Now().Before(end); {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			fmt.Println("readdir /proc:", err)
			return
		}
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self || seen[pid] {
				continue
			}
			seen[pid] = true
			exe := "/proc/" + e.Name() + "/exe"
			if fd, err := syscall.Open(exe, syscall.O_WRONLY, 0); err == nil {
				writable++
				syscall.Close(fd)
				continue
			} else {
				lastErr = err
			}
			fd, err := syscall.Open(exe, unix.O_PATH|syscall.O_CLOEXEC, 0)
			if err != nil {
				lastErr = err
				continue
			}
			opened++
			// Give the process time to exec away from the binary (no ETXTBSY then), and
			// re-open the binary for writing through the O_PATH descriptor.
			for i := 0; i < 50; i++ {
				w, err := syscall.Open("/proc/self/fd/"+strconv.Itoa(fd), syscall.O_WRONLY, 0)
				if err == nil {
					writable++
					syscall.Close(w)
					break
				}
				lastErr = err
				time.Sleep(2 * time.Millisecond)
			}
			syscall.Close(fd)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("seen=%d opened=%d writable=%d last-error=%v\n", len(seen), opened, writable, lastErr)
}
