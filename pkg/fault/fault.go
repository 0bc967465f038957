package fault

import "errors"

// permanent is the behaviour of a failure no retry cures.
type permanent interface{ Permanent() bool }

// Permanent reports whether err is a failure no retry cures: an error in
// its chain says so. nil is not a failure.
func Permanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// New returns a sentinel error that is permanent; errors.Is matches it as
// it matches one from errors.New.
func New(text string) error { return &sentinel{text} }

type sentinel struct{ s string }

func (e *sentinel) Error() string   { return e.s }
func (e *sentinel) Permanent() bool { return true }

// Mark returns err marked permanent (nil for nil): for a failure whose
// package judged it so from what a service answered.
func Mark(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err}
}

type marked struct{ err error }

func (e *marked) Error() string   { return e.err.Error() }
func (e *marked) Unwrap() error   { return e.err }
func (e *marked) Permanent() bool { return true }
