package bytesize

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Errors Parse returns, wrapped with the input. Test with errors.Is.
var (
	ErrSyntax = errors.New("bytesize: want a whole number of bytes, optionally with a unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)")
	ErrRange  = errors.New("bytesize: too large for a 64-bit byte count")
)

// units maps an upper-cased unit to its size in bytes.
var units = map[string]int64{
	"": 1, "B": 1,
	"K": 1000, "KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000, "TB": 1000 * 1000 * 1000 * 1000,
	"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
}

// Parse reads a byte count: digits, optional spaces, an optional unit.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	mult, ok := units[strings.ToUpper(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: %w", s, ErrRange)
	}
	return n * mult, nil
}

// Format prints n in the largest binary unit that divides it exactly, else
// as a plain number, so that Parse(Format(n)) == n.
func Format(n int64) string {
	if n > 0 {
		for _, u := range []struct {
			name string
			size int64
		}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if n%u.size == 0 {
				return strconv.FormatInt(n/u.size, 10) + u.name
			}
		}
	}
	return strconv.FormatInt(n, 10)
}
