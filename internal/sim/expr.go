package sim

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The subset of DynamoDB's expression language the project's writes use
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.html):
// conditions with attribute_exists, attribute_not_exists, begins_with,
// size, the six comparisons, AND, OR, NOT and parentheses; updates with
// SET (=, +, -, if_not_exists), REMOVE and ADD (numbers and sets). Paths are
// top-level attribute names (#name or a plain name). Anything else is
// refused with an error, so that a write the model does not know fails the
// simulation loudly instead of being evaluated wrongly.

type token struct {
	kind string // "id", "name" (#x), "value" (:x), "op", "num"
	text string
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#' || c == ':' || unicode.IsLetter(c) || c == '_':
			j := i + 1
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_') {
				j++
			}
			kind := "id"
			switch c {
			case '#':
				kind = "name"
			case ':':
				kind = "value"
			}
			out = append(out, token{kind, s[i:j]})
			i = j
		case strings.ContainsRune("(),=+-", c):
			out = append(out, token{"op", string(c)})
			i++
		case c == '<' || c == '>':
			if i+1 < len(s) && (s[i+1] == '=' || (c == '<' && s[i+1] == '>')) {
				out = append(out, token{"op", s[i : i+2]})
				i += 2
			} else {
				out = append(out, token{"op", string(c)})
				i++
			}
		default:
			return nil, fmt.Errorf("sim: expression %q: unexpected %q", s, c)
		}
	}
	return out, nil
}

// env resolves an expression's placeholders against one item.
type env struct {
	names  map[string]string
	values map[string]types.AttributeValue
	item   map[string]types.AttributeValue
	used   map[string]bool
}

func (e *env) attr(t token) (string, error) {
	switch t.kind {
	case "name":
		n, ok := e.names[t.text]
		if !ok {
			return "", fmt.Errorf("sim: undefined attribute name %s", t.text)
		}
		e.used[t.text] = true
		return n, nil
	case "id":
		return t.text, nil
	}
	return "", fmt.Errorf("sim: %q is not an attribute path", t.text)
}

func (e *env) value(t token) (types.AttributeValue, error) {
	v, ok := e.values[t.text]
	if !ok {
		return nil, fmt.Errorf("sim: undefined attribute value %s", t.text)
	}
	e.used[t.text] = true
	return v, nil
}

type parser struct {
	toks []token
	pos  int
	e    *env
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) next() token { t := p.peek(); p.pos++; return t }

func (p *parser) keyword(k string) bool {
	t := p.peek()
	if t.kind == "id" && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(op string) error {
	if t := p.next(); t.kind != "op" || t.text != op {
		return fmt.Errorf("sim: want %q, got %q", op, t.text)
	}
	return nil
}

// call reads a function's parenthesised arguments (its name read), each
// with its own reader, stopping at the first error.
func (p *parser) call(args ...func() error) error {
	sep := "("
	for _, arg := range args {
		if err := p.expect(sep); err != nil {
			return err
		}
		if err := arg(); err != nil {
			return err
		}
		sep = ","
	}
	return p.expect(")")
}

// into makes an argument reader of read that keeps what it reads in dst.
func into[T any](dst *T, read func() (T, error)) func() error {
	return func() error {
		v, err := read()
		*dst = v
		return err
	}
}

// path reads an attribute path.
func (p *parser) path() (string, error) { return p.e.attr(p.next()) }

// condition := or
func (p *parser) or() (bool, error) {
	v, err := p.and()
	for err == nil && p.keyword("OR") {
		var r bool
		r, err = p.and()
		v = v || r
	}
	return v, err
}

func (p *parser) and() (bool, error) {
	v, err := p.not()
	for err == nil && p.keyword("AND") {
		var r bool
		r, err = p.not()
		v = v && r
	}
	return v, err
}

func (p *parser) not() (bool, error) {
	if p.keyword("NOT") {
		v, err := p.not()
		return !v, err
	}
	return p.primary()
}

func (p *parser) primary() (bool, error) {
	t := p.peek()
	if t.kind == "op" && t.text == "(" {
		p.next()
		v, err := p.or()
		if err != nil {
			return false, err
		}
		return v, p.expect(")")
	}
	if t.kind == "id" {
		switch strings.ToLower(t.text) {
		case "attribute_exists", "attribute_not_exists":
			p.next()
			var a string
			if err := p.call(into(&a, p.path)); err != nil {
				return false, err
			}
			_, ok := p.e.item[a]
			return ok == (strings.ToLower(t.text) == "attribute_exists"), nil
		case "begins_with":
			p.next()
			var l, r types.AttributeValue
			if err := p.call(into(&l, p.operand), into(&r, p.operand)); err != nil {
				return false, err
			}
			ls, lok := l.(*types.AttributeValueMemberS)
			rs, rok := r.(*types.AttributeValueMemberS)
			return lok && rok && strings.HasPrefix(ls.Value, rs.Value), nil
		}
	}
	l, err := p.operand()
	if err != nil {
		return false, err
	}
	op := p.next()
	if op.kind != "op" {
		return false, fmt.Errorf("sim: want a comparison, got %q", op.text)
	}
	r, err := p.operand()
	if err != nil {
		return false, err
	}
	return compare(op.text, l, r)
}

// operand := path | :value | size(path); a missing attribute is nil.
func (p *parser) operand() (types.AttributeValue, error) {
	t := p.next()
	switch {
	case t.kind == "value":
		return p.e.value(t)
	case t.kind == "id" && strings.EqualFold(t.text, "size"):
		var a string
		if err := p.call(into(&a, p.path)); err != nil {
			return nil, err
		}
		v, ok := p.e.item[a]
		if !ok {
			return nil, nil
		}
		return &types.AttributeValueMemberN{Value: fmt.Sprint(size(v))}, nil
	default:
		a, err := p.e.attr(t)
		if err != nil {
			return nil, err
		}
		return p.e.item[a], nil
	}
}

func size(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		return len(v.Value)
	case *types.AttributeValueMemberNS:
		return len(v.Value)
	case *types.AttributeValueMemberL:
		return len(v.Value)
	case *types.AttributeValueMemberM:
		return len(v.Value)
	}
	return 0
}

// compare follows moto_server (the real API the model is checked against):
// a missing operand makes <, <=, >, >= false, and = / <> compare it as an
// absent value.
func compare(op string, l, r types.AttributeValue) (bool, error) {
	switch op {
	case "=":
		return equal(l, r), nil
	case "<>":
		return !equal(l, r), nil
	}
	if l == nil || r == nil {
		return false, nil
	}
	c, ok := order(l, r)
	if !ok {
		return false, nil
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("sim: unknown comparison %q", op)
}

func equal(l, r types.AttributeValue) bool {
	if l == nil || r == nil {
		return l == nil && r == nil
	}
	if c, ok := order(l, r); ok {
		return c == 0
	}
	return fmt.Sprintf("%#v", l) == fmt.Sprintf("%#v", r)
}

func order(l, r types.AttributeValue) (int, bool) {
	switch l := l.(type) {
	case *types.AttributeValueMemberS:
		if r, ok := r.(*types.AttributeValueMemberS); ok {
			return strings.Compare(l.Value, r.Value), true
		}
	case *types.AttributeValueMemberN:
		if r, ok := r.(*types.AttributeValueMemberN); ok {
			a, _ := new(big.Rat).SetString(l.Value)
			b, _ := new(big.Rat).SetString(r.Value)
			if a == nil || b == nil {
				return 0, false
			}
			return a.Cmp(b), true
		}
	}
	return 0, false
}

// update applies an UpdateExpression to item (a copy the caller owns).
func (p *parser) update() error {
	for p.pos < len(p.toks) {
		var err error
		switch {
		case p.keyword("SET"):
			err = p.actions(func(a string) error {
				if err := p.expect("="); err != nil {
					return err
				}
				v, err := p.setValue()
				if err != nil {
					return err
				}
				if v == nil {
					return fmt.Errorf("sim: SET %s to a missing attribute", a)
				}
				p.e.item[a] = v
				return nil
			})
		case p.keyword("REMOVE"):
			err = p.actions(func(a string) error {
				delete(p.e.item, a)
				return nil
			})
		case p.keyword("ADD"):
			err = p.actions(func(a string) error {
				v, err := p.e.value(p.next())
				if err != nil {
					return err
				}
				nv, err := add(p.e.item[a], v)
				if err != nil {
					return err
				}
				p.e.item[a] = nv
				return nil
			})
		default:
			return fmt.Errorf("sim: unsupported update clause at %q", p.peek().text)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// actions reads a clause's comma-separated actions, each on the attribute
// path it starts with, stopping at the first error.
func (p *parser) actions(act func(a string) error) error {
	for {
		a, err := p.path()
		if err != nil {
			return err
		}
		if err := act(a); err != nil {
			return err
		}
		if !p.comma() {
			return nil
		}
	}
}

func (p *parser) comma() bool {
	if t := p.peek(); t.kind == "op" && t.text == "," {
		p.next()
		return true
	}
	return false
}

// setValue := term [(+|-) term]
func (p *parser) setValue() (types.AttributeValue, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != "op" || (t.text != "+" && t.text != "-") {
		return l, nil
	}
	p.next()
	r, err := p.term()
	if err != nil {
		return nil, err
	}
	ln, lok := l.(*types.AttributeValueMemberN)
	rn, rok := r.(*types.AttributeValueMemberN)
	if !lok || !rok {
		return nil, fmt.Errorf("sim: arithmetic on a missing or non-number operand")
	}
	a, _ := new(big.Rat).SetString(ln.Value)
	b, _ := new(big.Rat).SetString(rn.Value)
	if t.text == "+" {
		a.Add(a, b)
	} else {
		a.Sub(a, b)
	}
	return &types.AttributeValueMemberN{Value: a.RatString()}, nil
}

// term := path | :value | if_not_exists(path, setValue)
func (p *parser) term() (types.AttributeValue, error) {
	t := p.peek()
	if t.kind == "id" && strings.EqualFold(t.text, "if_not_exists") {
		p.next()
		var a string
		var v types.AttributeValue
		if err := p.call(into(&a, p.path), into(&v, p.setValue)); err != nil {
			return nil, err
		}
		if cur, ok := p.e.item[a]; ok {
			return cur, nil
		}
		return v, nil
	}
	return p.operand()
}

func add(cur, v types.AttributeValue) (types.AttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberN:
		if cur == nil {
			return v, nil
		}
		c, ok := cur.(*types.AttributeValueMemberN)
		if !ok {
			return nil, fmt.Errorf("sim: ADD a number to a non-number")
		}
		a, _ := new(big.Rat).SetString(c.Value)
		b, _ := new(big.Rat).SetString(v.Value)
		return &types.AttributeValueMemberN{Value: a.Add(a, b).RatString()}, nil
	case *types.AttributeValueMemberSS:
		var have []string
		if cur != nil {
			c, ok := cur.(*types.AttributeValueMemberSS)
			if !ok {
				return nil, fmt.Errorf("sim: ADD a string set to a non-set")
			}
			have = append(have, c.Value...)
		}
		for _, s := range v.Value {
			dup := false
			for _, h := range have {
				dup = dup || h == s
			}
			if !dup {
				have = append(have, s)
			}
		}
		return &types.AttributeValueMemberSS{Value: have}, nil
	}
	return nil, fmt.Errorf("sim: ADD of an unsupported type")
}
