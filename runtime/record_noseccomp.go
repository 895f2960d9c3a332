//go:build !seccomp

package runtime

import "errors"

var errNoSeccomp = errors.New("profile recording needs yoroi built with -tags seccomp")

func syscallNames() ([]string, error) { return nil, errNoSeccomp }

type recorder struct{}

func newRecorder(string) (*recorder, error) { return nil, errNoSeccomp }

func (*recorder) recorded() ([]string, error) { return nil, errNoSeccomp }
