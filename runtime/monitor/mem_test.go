package monitor

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testMemory is a mapping of this process' memory with a hole: pages [0, hole) and
// (hole, n) are mapped, page hole is not, so that reads running into it fail as they would
// in an exec'ing process whose argument ends at an unmapped page.
type testMemory struct {
	mem  []byte
	hole int
}

func newTestMemory(t *testing.T, pages, hole int, flags int) *testMemory {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, pages*memPage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|flags)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	// unix.Munmap takes whole mappings only.
	unmap := func(b []byte) error {
		_, _, errno := unix.Syscall(unix.SYS_MUNMAP, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
		if errno != 0 {
			return errno
		}
		return nil
	}
	if err := unmap(mem[hole*memPage : (hole+1)*memPage]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = unmap(mem[:hole*memPage])
		_ = unmap(mem[(hole+1)*memPage:])
	})
	return &testMemory{mem: mem, hole: hole}
}

func (m *testMemory) addr(off int) uint64 {
	return uint64(uintptr(unsafe.Pointer(&m.mem[0]))) + uint64(off)
}

// put writes s and its NUL at off, as far as the mapping goes (up to the hole; nothing
// in it).
func (m *testMemory) put(off int, s string) {
	if off >= m.hole*memPage && off < (m.hole+1)*memPage {
		return
	}
	limit := len(m.mem)
	if off < m.hole*memPage {
		limit = m.hole * memPage
	}
	b := append([]byte(s), 0)
	copy(m.mem[off:limit], b)
}

func (m *testMemory) putPointers(off, size int, ptrs []uint64) {
	for i, p := range append(slices.Clone(ptrs), 0) {
		if size == 4 {
			binary.NativeEndian.PutUint32(m.mem[off+i*4:], uint32(p))
		} else {
			binary.NativeEndian.PutUint64(m.mem[off+i*8:], p)
		}
	}
}

// readArgsOneByOne is what the monitor did before it batched its reads: the argv array a
// pointer at a time, each argument by readString; readExecCall must read the same.
func readArgsOneByOne(pid int, argv uint64, size int) []string {
	var out []string
	total := 0
	for i := 0; i < maxExecArgs; i++ {
		buf := make([]byte, size)
		if !readMem(pid, argv+uint64(i*size), buf) {
			break
		}
		var p uint64
		if size == 4 {
			p = uint64(binary.NativeEndian.Uint32(buf))
		} else {
			p = binary.NativeEndian.Uint64(buf)
		}
		if p == 0 {
			break
		}
		s, _ := readString(pid, p)
		total += len(s)
		if total > maxExecBytes {
			return append(out, "...")
		}
		out = append(out, s)
	}
	return out
}

func TestReadArgsCases(t *testing.T) {
	pid := os.Getpid()
	m := newTestMemory(t, 8, 3, 0)
	long := strings.Repeat("x", 5000)
	// Strings: short ones; one ending right at the hole; one across a page boundary longer
	// than argPeek; one longer than maxExecArgBytes; an empty one; one in the hole; the end
	// of one (a pointer into a string is a string).
	m.put(100, "ls")
	m.put(200, "-l")
	m.put(3*memPage-5, "tail") // "tail\0" are the last bytes before the hole
	m.put(2*memPage-100, long[:600])
	m.put(4*memPage+10, long)
	m.put(5*memPage+3000, "")
	ptrs := []uint64{m.addr(100), m.addr(200), m.addr(3*memPage - 5), m.addr(2*memPage - 100), m.addr(4*memPage + 10),
		m.addr(5*memPage + 3000), m.addr(3*memPage + 8), m.addr(3*memPage - 2)}
	// The pointer array straddles the boundary of pages 6 and 7.
	arr := 7*memPage - 20
	m.putPointers(arr, 8, ptrs)
	got := readArgStrings(pid, readArgPointers(pid, m.addr(arr), 8))
	want := []string{"ls", "-l", "tail", long[:600], long[:maxExecArgBytes], "", "", "l"}
	if !slices.Equal(got, want) {
		t.Errorf("readArgStrings:\n got %q\nwant %q", abbreviate(got), abbreviate(want))
	}
	if ref := readArgsOneByOne(pid, m.addr(arr), 8); !slices.Equal(got, ref) {
		t.Errorf("batched and one-by-one reads differ:\n%q\n%q", abbreviate(got), abbreviate(ref))
	}
	// Arguments close together are read in one piece: one longer than the limit ends
	// within it, one runs past its end (the page of the highest).
	clear(m.mem[4*memPage : 7*memPage])
	m.put(4*memPage+10, long)
	m.put(5*memPage+2000, "b")
	m.put(5*memPage+4000, long[:300])
	m.putPointers(arr, 8, []uint64{m.addr(4*memPage + 10), m.addr(5*memPage + 2000), m.addr(5*memPage + 4000)})
	got = readArgStrings(pid, readArgPointers(pid, m.addr(arr), 8))
	if want := []string{long[:maxExecArgBytes], "b", long[:300]}; !slices.Equal(got, want) {
		t.Errorf("close together:\n got %q\nwant %q", abbreviate(got), abbreviate(want))
	}
	// A string that runs into the hole is what could be read of it.
	copy(m.mem[3*memPage-3:], "xyz")
	m.putPointers(arr, 8, []uint64{m.addr(3*memPage - 3)})
	if got := readArgStrings(pid, readArgPointers(pid, m.addr(arr), 8)); !slices.Equal(got, []string{"xyz"}) {
		t.Errorf("a string into the hole: %q", got)
	}
	// An argv array in the hole is none; one that runs into it ends there.
	if p := readArgPointers(pid, m.addr(3*memPage+64), 8); len(p) != 0 {
		t.Errorf("pointers read from the hole: %x", p)
	}
	copy(m.mem[3*memPage-16:], make([]byte, 16))
	binary.NativeEndian.PutUint64(m.mem[3*memPage-16:], m.addr(100))
	binary.NativeEndian.PutUint64(m.mem[3*memPage-8:], m.addr(200))
	if p := readArgsOneByOne(pid, m.addr(3*memPage-16), 8); !slices.Equal(p, []string{"ls", "-l"}) {
		t.Errorf("one by one, into the hole: %q", p)
	}
	if p := readArgStrings(pid, readArgPointers(pid, m.addr(3*memPage-16), 8)); !slices.Equal(p, []string{"ls", "-l"}) {
		t.Errorf("batched, into the hole: %q", p)
	}
}

// Random layouts: the batched reads give what the one-by-one reads give, for 8- and
// (where low mappings can be had) 4-byte pointers, across batches, the limits on the
// number and size of the arguments, and arguments the process cannot read.
func TestReadArgsMatchesOneByOne(t *testing.T) {
	sizes := []int{8}
	if goruntime.GOARCH == "amd64" {
		sizes = append(sizes, 4)
	}
	pid := os.Getpid()
	for _, size := range sizes {
		flags := 0
		if size == 4 {
			flags = unix.MAP_32BIT
		}
		const pages = 96
		m := newTestMemory(t, pages, pages/2, flags)
		rng := rand.New(rand.NewPCG(1, uint64(size)))
		for round := range 120 {
			clear(m.mem[:m.hole*memPage])
			clear(m.mem[(m.hole+1)*memPage:])
			n := rng.IntN(40)
			switch round % 6 {
			case 1:
				n = argBatch + rng.IntN(argBatch) // more than one batch
			case 2:
				n = maxExecArgs + 5 // beyond the limit on their number
			}
			ptrs := make([]uint64, n)
			cluster := rng.IntN(36 * memPage)
			if round%4 == 3 {
				cluster = (m.hole-2)*memPage + rng.IntN(memPage)
			}
			for i := range ptrs {
				var l int
				switch r := rng.IntN(20); {
				case r == 0:
					l = argPeek + rng.IntN(3*memPage) // longer than a peek, perhaps than the limit
				case r == 1:
					ptrs[i] = m.addr(m.hole*memPage + rng.IntN(memPage)) // unreadable
					continue
				default:
					l = rng.IntN(argPeek + 8)
				}
				// Anywhere in the strings' area (the first 40 pages and those after the
				// hole but the last 4, which hold the array), some right before the hole;
				// in every other round close together (one read of their span), some
				// rounds' span running into the hole.
				var off int
				if round%2 == 1 {
					off = cluster + rng.IntN(3*memPage)
				} else if rng.IntN(10) == 0 {
					off = m.hole*memPage - 1 - rng.IntN(min(l+2, 40))
				} else if rng.IntN(2) == 0 {
					off = rng.IntN(40 * memPage)
				} else {
					off = (m.hole+1)*memPage + rng.IntN((pages-m.hole-6)*memPage)
				}
				m.put(off, strings.Repeat(string(rune('a'+rng.IntN(26))), l))
				ptrs[i] = m.addr(off)
			}
			// The array in the last four pages ((maxExecArgs+6)*8 bytes fit in three).
			arr := (pages-4)*memPage + rng.IntN(memPage)
			arr -= arr % size
			m.putPointers(arr, size, ptrs)
			got := readArgStrings(pid, readArgPointers(pid, m.addr(arr), size))
			want := readArgsOneByOne(pid, m.addr(arr), size)
			if !slices.Equal(got, want) {
				t.Fatalf("size %d round %d: batched and one-by-one reads differ:\n%q\n%q", size, round, abbreviate(got), abbreviate(want))
			}
		}
	}
}

func abbreviate(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 20 {
			a = fmt.Sprintf("%s…(%d bytes)", a[:8], len(a))
		}
		out[i] = a
	}
	return out
}
