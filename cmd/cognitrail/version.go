package main

import (
	"fmt"
	"runtime/debug"
)

// version describes the build from its build information: the module
// version ("(devel)" for a build from a checkout) and, when the go command
// stamped it, the VCS revision, its time and whether the tree was modified.
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "cognitrail (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	s := "cognitrail " + v
	var rev, at, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev != "" {
		s += " revision " + rev
		if modified == "true" {
			s += " (modified)"
		}
		if at != "" {
			s += " " + at
		}
	}
	if bi.GoVersion != "" {
		s += fmt.Sprintf(" %s", bi.GoVersion)
	}
	return s
}
