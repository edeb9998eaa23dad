package kbuild

import (
	"fmt"
	"strings"
)

// expr is a Kconfig dependency expression over tristate values
// (Documentation/kbuild/kconfig-language.rst, "Menu dependencies"):
// symbols, the constants y/m/n, !, &&, ||, parentheses and (in)equality.
type expr interface {
	eval(env func(string) Tristate) Tristate
	symbols(add func(string))
	String() string
}

type (
	exprSym   struct{ name string }
	exprConst struct{ v Tristate }
	exprNot   struct{ x expr }
	exprAnd   struct{ a, b expr }
	exprOr    struct{ a, b expr }
	exprEq    struct {
		a, b expr
		neq  bool
	}
)

func (e exprSym) eval(env func(string) Tristate) Tristate { return env(e.name) }
func (e exprConst) eval(func(string) Tristate) Tristate   { return e.v }
func (e exprNot) eval(env func(string) Tristate) Tristate { return Yes - e.x.eval(env) }
func (e exprAnd) eval(env func(string) Tristate) Tristate {
	return min(e.a.eval(env), e.b.eval(env))
}
func (e exprOr) eval(env func(string) Tristate) Tristate {
	return max(e.a.eval(env), e.b.eval(env))
}
func (e exprEq) eval(env func(string) Tristate) Tristate {
	if (e.a.eval(env) == e.b.eval(env)) != e.neq {
		return Yes
	}
	return No
}

func (e exprSym) symbols(add func(string)) { add(e.name) }
func (e exprConst) symbols(func(string))   {}
func (e exprNot) symbols(add func(string)) { e.x.symbols(add) }
func (e exprAnd) symbols(add func(string)) { e.a.symbols(add); e.b.symbols(add) }
func (e exprOr) symbols(add func(string))  { e.a.symbols(add); e.b.symbols(add) }
func (e exprEq) symbols(add func(string))  { e.a.symbols(add); e.b.symbols(add) }
func (e exprSym) String() string           { return e.name }
func (e exprConst) String() string         { return e.v.String() }
func (e exprNot) String() string           { return "!" + paren(e.x) }
func (e exprAnd) String() string           { return paren(e.a) + " && " + paren(e.b) }
func (e exprOr) String() string            { return paren(e.a) + " || " + paren(e.b) }
func (e exprEq) String() string {
	op := "="
	if e.neq {
		op = "!="
	}
	return e.a.String() + op + e.b.String()
}

func paren(e expr) string {
	switch e.(type) {
	case exprAnd, exprOr:
		return "(" + e.String() + ")"
	}
	return e.String()
}

// parseExpr parses a Kconfig expression. Precedence, lowest first: ||, &&,
// !, comparison, primary.
func parseExpr(s string) (expr, error) {
	p := &exprParser{toks: tokenizeExpr(s), src: s}
	if len(p.toks) == 0 {
		return exprConst{Yes}, nil
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("expression %q: unexpected %q", s, p.toks[p.i])
	}
	return e, nil
}

func mustExpr(s string) expr {
	e, err := parseExpr(s)
	if err != nil {
		panic(err) // only for the package's own constant tables, checked by tests
	}
	return e
}

type exprParser struct {
	toks []string
	i    int
	src  string
}

func tokenizeExpr(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "!="):
			toks = append(toks, s[i:i+2])
			i += 2
		case c == '!' || c == '(' || c == ')' || c == '=' || c == '&' || c == '|':
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t&|!()=", s[j]) < 0 {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

func (p *exprParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *exprParser) or() (expr, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "||" {
		p.i++
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = exprOr{a, b}
	}
	return a, nil
}

func (p *exprParser) and() (expr, error) {
	a, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek() == "&&" {
		p.i++
		b, err := p.not()
		if err != nil {
			return nil, err
		}
		a = exprAnd{a, b}
	}
	return a, nil
}

func (p *exprParser) not() (expr, error) {
	if p.peek() == "!" {
		p.i++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return exprNot{x}, nil
	}
	return p.cmp()
}

func (p *exprParser) cmp() (expr, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	if op := p.peek(); op == "=" || op == "!=" {
		p.i++
		b, err := p.primary()
		if err != nil {
			return nil, err
		}
		return exprEq{a, b, op == "!="}, nil
	}
	return a, nil
}

func (p *exprParser) primary() (expr, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("expression %q ends early", p.src)
	case "(":
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("expression %q: missing )", p.src)
		}
		p.i++
		return e, nil
	case "y", "m", "n":
		p.i++
		v, _ := ParseTristate(t)
		return exprConst{v}, nil
	}
	if !isSymName(t) {
		return nil, fmt.Errorf("expression %q: unexpected %q", p.src, t)
	}
	p.i++
	return exprSym{t}, nil
}
