package runtime

import "github.com/sirupsen/logrus"

// rollback undoes what the stages of a create did, in reverse order. Each stage adds the
// undo of what it just did, right after doing it; a failure anywhere runs them all once.
type rollback struct {
	undo []undoStep
}

type undoStep struct {
	what string
	do   func() error
}

// add registers the undo of one step.
func (rb *rollback) add(what string, do func() error) {
	rb.undo = append(rb.undo, undoStep{what, do})
}

// run undoes every step, the last first, and forgets them; it only warns on failures (the
// create's own error is what the caller sees).
func (rb *rollback) run() {
	for i := len(rb.undo) - 1; i >= 0; i-- {
		done := timed("", "undo: "+rb.undo[i].what)
		err := rb.undo[i].do()
		done()
		if err != nil {
			logrus.Warnf("undoing %s: %v", rb.undo[i].what, err)
		}
	}
	rb.undo = nil
}
