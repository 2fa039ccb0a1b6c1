package jinja

// node is a statement or expression of a parsed template.
type node interface {
	line() int
}

// at is the source line of a node.
type at struct{ ln int }

func (a at) line() int { return a.ln }

type (
	// stringLit is template text outside tags or a quoted string literal.
	stringLit struct {
		at
		value string
	}
	intLit struct {
		at
		value float64
	}
	floatLit struct {
		at
		value float64
	}
	ident struct {
		at
		name string
	}
	arrayLit struct {
		at
		items []node
	}
	tupleLit struct {
		at
		items []node
	}
	objectLit struct {
		at
		keys   []node
		values []node
	}
	memberExpr struct {
		at
		object   node
		property node
		computed bool
	}
	callExpr struct {
		at
		callee node
		args   []node
	}
	binaryExpr struct {
		at
		op          string
		left, right node
	}
	unaryExpr struct {
		at
		op  string
		arg node
	}
	// filterExpr applies a filter, an *ident or a *callExpr, to operand.
	filterExpr struct {
		at
		operand node
		filter  node
	}
	testExpr struct {
		at
		operand node
		negate  bool
		test    *ident
	}
	// selectExpr is "lhs if test" without else: lhs when test holds,
	// otherwise undefined. In a for statement it filters the items.
	selectExpr struct {
		at
		lhs, test node
	}
	ternary struct {
		at
		cond, whenTrue, whenFalse node
	}
	// sliceExpr is [start:stop:step]; absent parts are nil.
	sliceExpr struct {
		at
		start, stop, step node
	}
	kwArg struct {
		at
		key   *ident
		value node
	}
	spreadExpr struct {
		at
		arg node
	}
	kwSpreadExpr struct {
		at
		arg node
	}

	commentNode struct{ at }
	ifNode      struct {
		at
		test            node
		body, alternate []node
	}
	forNode struct {
		at
		loopVar  node // *ident or *tupleLit
		iterable node
		body     []node
		elseBody []node
	}
	breakNode    struct{ at }
	continueNode struct{ at }
	// setNode assigns value, or the rendered body when value is nil.
	setNode struct {
		at
		assignee node
		value    node
		body     []node
	}
	macroNode struct {
		at
		name   *ident
		params []node // *ident or *kwArg
		body   []node
	}
	callStmt struct {
		at
		call         *callExpr
		callerParams []node
		body         []node
	}
	filterStmt struct {
		at
		filter node
		body   []node
	}
)
