package jinja

// findSpecialArgs returns which of caller, kwargs and varargs the body of
// a macro or call block reads before declaring them, visiting the tree in
// Jinja's order. Only those names are bound on a call, and reading kwargs
// or varargs lets the macro accept extra arguments.
func findSpecialArgs(params []node, body []node) map[string]bool {
	w := &specialWalker{declared: map[string]bool{}, accessed: map[string]bool{}}
	for _, p := range params {
		name, _ := paramName(p)
		w.declare(name)
	}
	w.visitAll(body)
	return w.accessed
}

type specialWalker struct {
	declared, accessed map[string]bool
}

func isSpecialName(name string) bool {
	return name == "caller" || name == "kwargs" || name == "varargs"
}

func (w *specialWalker) declare(name string) {
	if isSpecialName(name) {
		w.declared[name] = true
	}
}

func (w *specialWalker) declareTarget(n node) {
	switch t := n.(type) {
	case *ident:
		w.declare(t.name)
	case *tupleLit:
		for _, item := range t.items {
			w.declareTarget(item)
		}
	}
}

func (w *specialWalker) declareParams(params []node) {
	for _, p := range params {
		name, _ := paramName(p)
		w.declare(name)
	}
	for _, p := range params {
		if _, def := paramName(p); def != nil {
			w.visit(def)
		}
	}
}

func (w *specialWalker) visitFilter(f node) {
	// A filter name is syntax, not a variable read.
	if c, ok := f.(*callExpr); ok {
		w.visitAll(c.args)
	}
}

func (w *specialWalker) visitAll(nodes []node) {
	for _, n := range nodes {
		w.visit(n)
	}
}

func (w *specialWalker) visit(n node) {
	switch t := n.(type) {
	case nil:
	case *forNode:
		w.declareTarget(t.loopVar)
		if sel, ok := t.iterable.(*selectExpr); ok {
			// Jinja visits a loop's condition after its body and else block.
			w.visit(sel.lhs)
			w.visitAll(t.body)
			w.visitAll(t.elseBody)
			w.visit(sel.test)
			return
		}
		w.visit(t.iterable)
		w.visitAll(t.body)
		w.visitAll(t.elseBody)
	case *setNode:
		w.declareTarget(t.assignee)
		w.visit(t.value)
		w.visitAll(t.body)
	case *macroNode:
		w.declareParams(t.params)
		w.visitAll(t.body)
	case *callStmt:
		w.visit(t.call)
		w.declareParams(t.callerParams)
		w.visitAll(t.body)
	case *filterStmt:
		w.visitAll(t.body)
		w.visitFilter(t.filter)
	case *ident:
		if isSpecialName(t.name) && !w.declared[t.name] {
			w.accessed[t.name] = true
		}
	case *memberExpr:
		w.visit(t.object)
		if t.computed {
			w.visit(t.property)
		}
	case *filterExpr:
		w.visit(t.operand)
		w.visitFilter(t.filter)
	case *testExpr:
		w.visit(t.operand)
	case *selectExpr:
		w.visit(t.test)
		w.visit(t.lhs)
	case *kwArg:
		w.visit(t.value)
	case *ifNode:
		w.visit(t.test)
		w.visitAll(t.body)
		w.visitAll(t.alternate)
	case *callExpr:
		w.visit(t.callee)
		w.visitAll(t.args)
	case *binaryExpr:
		w.visit(t.left)
		w.visit(t.right)
	case *unaryExpr:
		w.visit(t.arg)
	case *ternary:
		w.visit(t.cond)
		w.visit(t.whenTrue)
		w.visit(t.whenFalse)
	case *arrayLit:
		w.visitAll(t.items)
	case *tupleLit:
		w.visitAll(t.items)
	case *objectLit:
		for i := range t.keys {
			w.visit(t.keys[i])
			w.visit(t.values[i])
		}
	case *sliceExpr:
		w.visit(t.start)
		w.visit(t.stop)
		w.visit(t.step)
	case *spreadExpr:
		w.visit(t.arg)
	case *kwSpreadExpr:
		w.visit(t.arg)
	}
}
