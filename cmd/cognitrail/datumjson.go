package main

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// appendDatumJSON appends d as json.MarshalIndent(d, "  ", "  ") writes it,
// byte for byte, without reflection: a file spanning hours gives tens of
// thousands of datums, and encoding/json spent more CPU on them than the
// aggregation that made them. It reports false, having appended nothing,
// for a datum encoding/json must judge itself (a NaN or infinite value, a
// year it cannot write): the caller falls back to it.
func appendDatumJSON(b []byte, d *metric.Datum) ([]byte, bool) {
	if y := d.Timestamp.Year(); y < 0 || y > 9999 || !finite(d.Values) || !finite(d.Counts) {
		return b, false
	}
	b = append(b, "{\n    \"name\": "...)
	b = appendJSONString(b, d.Name)
	if len(d.Dimensions) > 0 {
		b = append(b, ",\n    \"dimensions\": ["...)
		for i, dim := range d.Dimensions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n      {\n        \"name\": "...)
			b = appendJSONString(b, dim.Name)
			b = append(b, ",\n        \"value\": "...)
			b = appendJSONString(b, dim.Value)
			b = append(b, "\n      }"...)
		}
		b = append(b, "\n    ]"...)
	}
	b = append(b, ",\n    \"timestamp\": \""...)
	b = d.Timestamp.AppendFormat(b, time.RFC3339Nano)
	b = append(b, "\",\n    \"unit\": "...)
	b = appendJSONString(b, string(d.Unit))
	b = append(b, ",\n    \"values\": "...)
	b = appendFloats(b, d.Values)
	b = append(b, ",\n    \"counts\": "...)
	b = appendFloats(b, d.Counts)
	return append(b, "\n  }"...), true
}

func finite(fs []float64) bool {
	for _, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

func appendFloats(b []byte, fs []float64) []byte {
	switch {
	case fs == nil:
		return append(b, "null"...)
	case len(fs) == 0:
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n      "...)
		b = appendJSONFloat(b, f)
	}
	return append(b, "\n    ]"...)
}

// appendJSONFloat is encoding/json's float64 encoding: 'f' form, but 'e'
// for magnitudes below 1e-6 or from 1e21, with a one-digit exponent
// unpadded.
func appendJSONFloat(b []byte, f float64) []byte {
	// Most values are whole (seconds of lag, counts). Below 2^53 every
	// whole number is exact, so its digits are its shortest form, and
	// AppendInt writes them for a fraction of AppendFloat's work (a
	// 15-hour file's output is tens of thousands of them). Zero is left
	// to AppendFloat for its sign.
	if i := int64(f); float64(i) == f && i != 0 && i > -1<<53 && i < 1<<53 {
		return strconv.AppendInt(b, i, 10)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString writes plain printable ASCII as is and leaves anything
// encoding/json escapes (quotes, backslashes, control and HTML characters,
// non-ASCII) to it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			js, _ := json.Marshal(s)
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonPlain marks the bytes appendJSONString writes as they are: one load
// a byte instead of seven comparisons.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
