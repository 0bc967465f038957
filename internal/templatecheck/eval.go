package templatecheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Pseudo parameter values used when evaluating a template.
var Pseudo = map[string]string{
	"AWS::AccountId":        "123456789012",
	"AWS::Region":           "us-east-1",
	"AWS::Partition":        "aws",
	"AWS::URLSuffix":        "amazonaws.com",
	"AWS::StackName":        "cognitrail",
	"AWS::StackId":          "arn:aws:cloudformation:us-east-1:123456789012:stack/cognitrail/1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
	"AWS::NotificationARNs": "",
}

// Scenario is a set of parameter values (parameters not in it take their
// default).
type Scenario map[string]string

func (s Scenario) String() string {
	keys := slices.Sorted(maps.Keys(s))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s[k]
	}
	return strings.Join(parts, " ")
}

// Placeholders: what Ref of a resource and Fn::GetAtt evaluate to. They
// contain no JSON-special characters, so they can sit inside JSON strings.
func refPlaceholder(id string) string          { return "{{" + id + "}}" }
func getAttPlaceholder(id, attr string) string { return "{{" + id + "." + attr + "}}" }

// RefOf is what a Ref to the resource id evaluates to.
func RefOf(id string) string { return refPlaceholder(id) }

// GetAttOf is what Fn::GetAtt id.attr evaluates to.
func GetAttOf(id, attr string) string { return getAttPlaceholder(id, attr) }

type noValue struct{}

// Env evaluates a template's intrinsic functions for one scenario.
type Env struct {
	t          *Template
	params     map[string]string
	conditions map[string]bool
	// pseudo are the pseudo parameters: Pseudo, but for those the
	// scenario sets (a stack name at its longest).
	pseudo map[string]string
}

// NewEnv resolves the parameters (defaults filled in, allowed values
// enforced) and conditions of scenario s.
func (t *Template) NewEnv(s Scenario) (*Env, error) {
	e := &Env{t: t, params: map[string]string{}, conditions: map[string]bool{}, pseudo: maps.Clone(Pseudo)}
	for name, v := range s {
		if _, ok := Pseudo[name]; ok {
			e.pseudo[name] = v
			continue
		}
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("scenario sets unknown parameter %s", name)
		}
	}
	if name, ok := s["AWS::StackName"]; ok {
		e.pseudo["AWS::StackId"] = strings.Replace(Pseudo["AWS::StackId"], "/"+Pseudo["AWS::StackName"]+"/", "/"+name+"/", 1)
	}
	for name, p := range t.Parameters {
		v, ok := s[name]
		if _, pseudo := Pseudo[name]; pseudo {
			ok = false
		}
		if !ok {
			if !p.HasDefault {
				return nil, fmt.Errorf("parameter %s has no default and no value", name)
			}
			v = p.Default
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
			return nil, fmt.Errorf("parameter %s=%q is not one of %v", name, v, p.AllowedValues)
		}
		e.params[name] = v
	}
	for name := range t.Conditions {
		if _, err := e.Condition(name); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Param returns a parameter's value in this scenario.
func (e *Env) Param(name string) string { return e.params[name] }

// Condition evaluates the named condition.
func (e *Env) Condition(name string) (bool, error) {
	if v, ok := e.conditions[name]; ok {
		return v, nil
	}
	def, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	v, err := e.boolean(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.conditions[name] = v
	return v, nil
}

// Active says whether the resource exists in this scenario.
func (e *Env) Active(id string) bool {
	r, ok := e.t.Resources[id]
	if !ok {
		return false
	}
	if r.Condition == "" {
		return true
	}
	v, err := e.Condition(r.Condition)
	return err == nil && v
}

// RulesHold evaluates the template's Rules: false (with the failed
// assertion) when CloudFormation would refuse this scenario's parameters.
func (e *Env) RulesHold() (bool, string, error) {
	for _, name := range slices.Sorted(maps.Keys(e.t.Rules)) {
		rule := asMap(e.t.Rules[name])
		if c, ok := rule["RuleCondition"]; ok {
			applies, err := e.boolean(c)
			if err != nil {
				return false, "", fmt.Errorf("rule %s: %w", name, err)
			}
			if !applies {
				continue
			}
		}
		for _, a := range asList(rule["Assertions"]) {
			ok, err := e.boolean(asMap(a)["Assert"])
			if err != nil {
				return false, "", fmt.Errorf("rule %s: %w", name, err)
			}
			if !ok {
				return false, fmt.Sprintf("%s: %v", name, asMap(a)["AssertDescription"]), nil
			}
		}
	}
	return true, "", nil
}

func (e *Env) boolean(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return false, fmt.Errorf("not a condition: %v", v)
	}
	for fn, arg := range m {
		args := asList(arg)
		switch fn {
		case "Condition":
			return e.Condition(fmt.Sprint(arg))
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals needs 2 arguments")
			}
			a, err := e.Eval(args[0])
			if err != nil {
				return false, err
			}
			b, err := e.Eval(args[1])
			if err != nil {
				return false, err
			}
			return scalarString(a) == scalarString(b), nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not needs 1 argument")
			}
			b, err := e.boolean(args[0])
			return !b, err
		case "Fn::And", "Fn::Or":
			and := fn == "Fn::And"
			for _, a := range args {
				b, err := e.boolean(a)
				if err != nil {
					return false, err
				}
				if b != and {
					return !and, nil
				}
			}
			return and, nil
		case "Fn::Contains":
			// Rules only: whether the value is one of the list's.
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Contains needs [list, value]")
			}
			list, err := e.Eval(args[0])
			if err != nil {
				return false, err
			}
			v, err := e.EvalString(args[1])
			if err != nil {
				return false, err
			}
			for _, x := range asList(list) {
				if scalarString(x) == v {
					return true, nil
				}
			}
			return false, nil
		}
		return false, fmt.Errorf("unsupported condition function %s", fn)
	}
	panic("unreachable")
}

// Eval evaluates every intrinsic function in v. References to resources
// become placeholders (RefOf, GetAttOf); a reference to a resource that does
// not exist in this scenario, an unknown parameter or an unknown condition
// is an error, as it would be for CloudFormation.
func (e *Env) Eval(v any) (any, error) {
	r, err := e.eval(v)
	if _, none := r.(noValue); none {
		return nil, err
	}
	return r, err
}

// EvalString evaluates v and requires a string (numbers are formatted).
func (e *Env) EvalString(v any) (string, error) {
	r, err := e.Eval(v)
	if err != nil {
		return "", err
	}
	switch r := r.(type) {
	case string:
		return r, nil
	case int, float64, bool:
		return fmt.Sprint(r), nil
	}
	return "", fmt.Errorf("not a string: %v", r)
}

func (e *Env) eval(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			r, err := e.eval(x)
			if err != nil {
				return nil, err
			}
			if _, none := r.(noValue); !none {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := e.eval(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, none := r.(noValue); !none {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *Env) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := e.pseudo[name]; ok {
		return v, nil
	}
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	if _, ok := e.t.Resources[name]; ok {
		if !e.Active(name) {
			return nil, fmt.Errorf("!Ref %s: the resource does not exist in this scenario", name)
		}
		return refPlaceholder(name), nil
	}
	return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
}

func (e *Env) getAtt(id, attr string) (any, error) {
	if _, ok := e.t.Resources[id]; !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource", id, attr)
	}
	if !e.Active(id) {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: the resource does not exist in this scenario", id, attr)
	}
	return getAttPlaceholder(id, attr), nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (e *Env) intrinsic(fn string, arg any) (any, error) {
	args := asList(arg)
	switch fn {
	case "Ref":
		return e.ref(fmt.Sprint(arg))
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt needs [resource, attribute]")
		}
		return e.getAtt(fmt.Sprint(args[0]), fmt.Sprint(args[1]))
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::If needs 3 arguments")
		}
		c, err := e.Condition(fmt.Sprint(args[0]))
		if err != nil {
			return nil, err
		}
		if c {
			return e.eval(args[1])
		}
		return e.eval(args[2])
	case "Fn::Sub":
		var format string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			format = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub needs a string or [string, map]")
			}
			format, _ = a[0].(string)
			for k, x := range asMap(a[1]) {
				r, err := e.EvalString(x)
				if err != nil {
					return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
				}
				vars[k] = r
			}
		default:
			return nil, fmt.Errorf("Fn::Sub needs a string or [string, map]")
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(format, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var r any
			var err error
			if v, ok := vars[name]; ok {
				r = v
			} else if id, attr, dot := strings.Cut(name, "."); dot && !strings.HasPrefix(name, "AWS::") {
				r, err = e.getAtt(id, attr)
			} else {
				r, err = e.ref(name)
			}
			if err == nil {
				if _, none := r.(noValue); none {
					err = fmt.Errorf("${%s}: AWS::NoValue in Fn::Sub", name)
				}
			}
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return ""
			}
			return scalarString(r)
		})
		return out, firstErr
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join needs [delimiter, list]")
		}
		list, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		l, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join: not a list")
		}
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = scalarString(x)
		}
		return strings.Join(parts, fmt.Sprint(args[0])), nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split needs [delimiter, string]")
		}
		s, err := e.EvalString(args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, fmt.Sprint(args[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		if len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select needs [index, list]")
		}
		i, err := strconv.Atoi(scalarString(args[0]))
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		list, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		l, _ := list.([]any)
		if i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select index %d out of range", i)
		}
		return l[i], nil
	case "Fn::ToJsonString":
		r, err := e.eval(arg)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(r)
		return string(b), err
	case "Fn::FindInMap":
		if len(args) != 3 {
			return nil, fmt.Errorf("Fn::FindInMap needs [map, top-level key, second-level key]")
		}
		var keys [3]string
		for i, a := range args {
			k, err := e.EvalString(a)
			if err != nil {
				return nil, fmt.Errorf("Fn::FindInMap: %w", err)
			}
			keys[i] = k
		}
		m, ok := e.t.Mappings[keys[0]]
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: no mapping %s", keys[0])
		}
		top, ok := asMap(m)[keys[1]]
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: mapping %s has no key %q", keys[0], keys[1])
		}
		v, ok := asMap(top)[keys[2]]
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: mapping %s.%s has no key %q", keys[0], keys[1], keys[2])
		}
		return v, nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return e.boolean(map[string]any{fn: arg})
	}
	return nil, fmt.Errorf("unsupported intrinsic function %s", fn)
}

// Scenarios returns the parameter combinations to check: every combination
// of the allowed values of the parameters that conditions depend on (free
// parameters with a sample value take their default or the sample), each
// with the other sample values applied or not. Combinations the template's
// Rules refuse are left out.
func (t *Template) Scenarios(samples map[string]string) ([]Scenario, error) {
	used := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "Ref" {
					used[fmt.Sprint(x)] = true
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(t.Conditions)
	var axes []string
	for name := range used {
		if p, ok := t.Parameters[name]; ok && len(p.AllowedValues) > 0 {
			axes = append(axes, name)
		}
	}
	sort.Strings(axes)
	for name := range samples {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("sample for unknown parameter %s", name)
		}
	}
	combos := []Scenario{{}}
	for _, name := range axes {
		var next []Scenario
		for _, c := range combos {
			for _, v := range t.Parameters[name].AllowedValues {
				s := maps.Clone(c)
				s[name] = v
				next = append(next, s)
			}
		}
		combos = next
	}
	var out []Scenario
	for _, c := range combos {
		for _, withSamples := range []bool{false, true} {
			s := maps.Clone(c)
			if withSamples {
				for k, v := range samples {
					if _, axis := s[k]; !axis {
						s[k] = v
					}
				}
			}
			env, err := t.NewEnv(s)
			if err != nil {
				return nil, fmt.Errorf("scenario %v: %w", s, err)
			}
			ok, _, err := env.RulesHold()
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, s)
			}
		}
	}
	return out, nil
}
