package reconstruct

// One chunk per frame: a module frame's code runs in its module's
// namespace; a function frame's chunk defines the resume function (its
// original parameters, the recorded locals restored) whose body is the
// rest of the function from the recorded position (blocks.go). The
// function's scaffolding is in frame_function.go, a module's rule in
// frame_module.go.

func (b *builder) chunk(fi *frameInfo, next *frameInfo) (*Chunk, error) {
	fr := fi.fr
	e := newEmitter(fi.file)
	c := &Chunk{Frame: fi.idx, File: fr.File, Module: fr.ModuleName, Qualname: fr.Function, Name: fr.Name, Library: fr.Library}
	indent := 0
	if fr.Module {
		c.Kind = "module"
	} else {
		c.Kind = "function"
		var err error
		indent, err = b.functionHeader(e, fi, c)
		if err != nil {
			return nil, err
		}
	}
	// the statement at the position, then the rest of each enclosing block
	subst, err := b.substFor(fi, next)
	if err != nil {
		return nil, err
	}
	if fi.mode == modeEntry {
		if fi.innermost {
			e.arrive(indent, 0)
		}
		for _, st := range bodyStatements(fi.file, fi.scope) {
			e.node(indent, st, nil)
		}
	} else if err := b.emitLevel(e, fi, 0, indent, subst); err != nil {
		return nil, err
	}
	c.Source, c.Map = e.source()
	return c, nil
}
