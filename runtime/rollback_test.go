package runtime

import (
	"errors"
	"slices"
	"testing"
)

func TestRollbackUndoesInReverseOnce(t *testing.T) {
	var rb rollback
	var done []string
	for _, s := range []string{"range", "staging", "pending"} {
		rb.add(s, func() error {
			done = append(done, s)
			if s == "staging" {
				return errors.New("busy")
			}
			return nil
		})
	}
	rb.run()
	rb.run()
	if want := []string{"pending", "staging", "range"}; !slices.Equal(done, want) {
		t.Errorf("undone %v, want %v (a failing step does not stop the others)", done, want)
	}
}
