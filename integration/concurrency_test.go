package integration

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// 50 creates at once, 5 for each of 10 ids: exactly one wins per id, the others fail
// cleanly ("already exists"), and deleting the winners leaves nothing.
func TestParallelCreatesWithDuplicateIDs(t *testing.T) {
	e := newEnv(t)
	b := e.newBundle("sleep", "1000")
	const ids, dups = 10, 5
	type outcome struct {
		id   string
		code int
		err  string
	}
	results := make(chan outcome, ids*dups)
	var wg sync.WaitGroup
	base := uniqueID("par")
	for i := 0; i < ids; i++ {
		for j := 0; j < dups; j++ {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				r := e.runQuiet("create", "--bundle", b.dir, id)
				results <- outcome{id, r.code, r.stderr}
			}(fmt.Sprintf("%s-%d", base, i))
		}
	}
	wg.Wait()
	close(results)
	wins := map[string]int{}
	for r := range results {
		if r.code == 0 {
			wins[r.id]++
			continue
		}
		if !strings.Contains(r.err, "already exists") {
			t.Errorf("%s: a losing create failed with %q, want \"already exists\"", r.id, r.err)
		}
	}
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("%s-%d", base, i)
		if wins[id] != 1 {
			t.Errorf("%s: %d creates won, want exactly 1", id, wins[id])
		}
		e.ok("delete", "--force", id)
		e.assertNoLeftovers(id)
	}
}
