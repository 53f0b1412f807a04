package visengine_test

import (
	"errors"
	"fmt"

	"github.com/visengine-go/visengine"
)

func ExampleParseRule() {
	r, err := visengine.ParseRule("($0 && $1 && $2) || ($0 && $1)")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Fields())
	fmt.Println(r.Optional())
	fmt.Println(r.Eval(visengine.FieldSetOf("$0", "$1")))

	_, err = visengine.ParseRule("$0 | $1")
	fmt.Println(err)
	var se *visengine.RuleSyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Caret())
	}
	// Output:
	// [$0 $1 $2]
	// [$2]
	// true
	// visengine: validazione: single "|" at byte 3 (did you mean "||"?)
	// $0 | $1
	//    ^
}

func ExampleRule_Explain() {
	r, err := visengine.ParseRule("$0 && ($1 || $2 && $3) && ($4 || $5)")
	if err != nil {
		fmt.Println(err)
		return
	}
	e := r.Explain(visengine.FieldSetOf("$2"))
	fmt.Println("satisfied:", e.Satisfied)
	fmt.Println("options:", e.Alternatives)
	fmt.Println("required:", e.Required)
	fmt.Println("residual:", e.Residual)
	// Output:
	// satisfied: false
	// options: [[$0 $1 $4] [$0 $1 $5] [$0 $3 $4] [$0 $3 $5]]
	// required: [$0]
	// residual: $0 && ($1 || $3) && ($4 || $5)
}
