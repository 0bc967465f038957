// Package templatecheck reads the SAM template (template.yaml) and checks it
// against the code: every alarm, anomaly detector, dashboard metric and
// Contributor Insights rule must refer to a metric name, dimension set and
// namespace that pkg/metric.Catalog really publishes at the deployment's
// detail level, with dimension values the classifier really produces, and
// the function's build must be a Makefile target that exists.
//
// CloudFormation has conditions, so the template is not one stack but many:
// the checker evaluates the intrinsic functions (Ref, Fn::Sub, Fn::If,
// Fn::Join, ...) for a parameter scenario, as CloudFormation would, and
// checks the resulting stack. Tests run it over every combination of the
// parameters that drive conditions.
package templatecheck

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Template is a parsed CloudFormation (SAM) template. Short-form tags (!Ref,
// !Sub, !If, ...) are expanded to their long form ({"Ref": ...},
// {"Fn::Sub": ...}), so values are plain maps, lists and scalars.
type Template struct {
	Parameters map[string]Parameter
	Mappings   map[string]any
	Conditions map[string]any
	Rules      map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Parameter is one template parameter.
type Parameter struct {
	Type          string
	Default       string
	HasDefault    bool
	AllowedValues []string
	// AllowedPattern is kept as written; CloudFormation matches it against
	// the whole value.
	AllowedPattern string
	// MinValue and MaxValue as written ("" when absent).
	MinValue, MaxValue string
}

// Resource is one template resource.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
	Metadata   map[string]any
	// DeletionPolicy and UpdateReplacePolicy as written ("" when absent).
	DeletionPolicy      string
	UpdateReplacePolicy string
	// DependsOn as written, one or more logical ids.
	DependsOn []string
}

// Load parses the template file at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template in YAML (or JSON, which is YAML).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	root, err := convert(&doc)
	if err != nil {
		return nil, err
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Mappings:   asMap(top["Mappings"]),
		Conditions: asMap(top["Conditions"]),
		Rules:      asMap(top["Rules"]),
		Resources:  map[string]Resource{},
		Outputs:    asMap(top["Outputs"]),
	}
	for name, v := range asMap(top["Parameters"]) {
		m := asMap(v)
		p := Parameter{Type: fmt.Sprint(m["Type"])}
		if d, ok := m["Default"]; ok {
			p.Default, p.HasDefault = scalarString(d), true
		}
		p.MinValue, p.MaxValue = scalarString(m["MinValue"]), scalarString(m["MaxValue"])
		if ap, ok := m["AllowedPattern"]; ok {
			p.AllowedPattern = scalarString(ap)
		}
		for _, a := range asList(m["AllowedValues"]) {
			p.AllowedValues = append(p.AllowedValues, scalarString(a))
		}
		t.Parameters[name] = p
	}
	for id, v := range asMap(top["Resources"]) {
		m := asMap(v)
		r := Resource{
			Type:       fmt.Sprint(m["Type"]),
			Properties: asMap(m["Properties"]),
			Metadata:   asMap(m["Metadata"]),

			DeletionPolicy:      scalarString(m["DeletionPolicy"]),
			UpdateReplacePolicy: scalarString(m["UpdateReplacePolicy"]),
		}
		if c, ok := m["Condition"].(string); ok {
			r.Condition = c
		}
		if d, ok := m["DependsOn"].(string); ok {
			r.DependsOn = []string{d}
		} else {
			for _, x := range asList(m["DependsOn"]) {
				r.DependsOn = append(r.DependsOn, scalarString(x))
			}
		}
		t.Resources[id] = r
	}
	return t, nil
}

// ResourcesOfType returns the logical ids of the resources of type typ, sorted.
func (t *Template) ResourcesOfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// convert turns a yaml.v3 node into maps, lists and scalars, expanding
// CloudFormation's short-form tags.
func convert(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = val
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		if isCustomTag(n.Tag) {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	if !isCustomTag(n.Tag) {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			id, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q has no attribute", n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{id, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	}
	return map[string]any{"Fn::" + name: v}, nil
}

func isCustomTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func scalarString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
