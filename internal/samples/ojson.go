package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// CloudTrail writes the keys of a record in a fixed order (eventVersion,
// userIdentity, eventTime, ...). Go maps would sort them, so records are
// handled as ordered objects to keep the real layout.

type member struct {
	key string
	val any
}

// object is a JSON object that keeps its key order.
type object []member

func (o object) get(key string) any {
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (o object) obj(key string) object {
	v, _ := o.get(key).(object)
	return v
}

func (o object) str(key string) string {
	v, _ := o.get(key).(string)
	return v
}

// set replaces an existing key's value and reports whether the key existed:
// records only ever get values changed, never keys added, so each keeps the
// layout of the record it came from.
func (o object) set(key string, v any) bool {
	for i := range o {
		if o[i].key == key {
			o[i].val = v
			return true
		}
	}
	return false
}

// parse decodes one JSON value, keeping key order and number literals (a
// status of 200.0 stays 200.0).
func parse(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		o := object{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			o = append(o, member{k.(string), v})
		}
		_, err := d.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for d.More() {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := d.Token()
		return a, err
	}
	return t, nil
}

// encode writes v as JSON. indent "" gives CloudTrail's one-line form.
func encode(w *bytes.Buffer, v any, indent, prefix string) {
	nl := func(p string) {
		if indent != "" {
			w.WriteByte('\n')
			w.WriteString(p)
		}
	}
	colon := ":"
	if indent != "" {
		colon = ": "
	}
	switch v := v.(type) {
	case object:
		w.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			nl(prefix + indent)
			writeString(w, m.key)
			w.WriteString(colon)
			encode(w, m.val, indent, prefix+indent)
		}
		if len(v) > 0 {
			nl(prefix)
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			nl(prefix + indent)
			encode(w, e, indent, prefix+indent)
		}
		if len(v) > 0 {
			nl(prefix)
		}
		w.WriteByte(']')
	case string:
		writeString(w, v)
	case json.Number:
		w.WriteString(string(v))
	case bool:
		fmt.Fprint(w, v)
	case nil:
		w.WriteString("null")
	default:
		panic(fmt.Sprintf("encode: unexpected %T", v))
	}
}

// writeString quotes s as CloudTrail does, without Go's HTML escaping of
// <, > and &.
func writeString(w *bytes.Buffer, s string) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		panic(err)
	}
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
