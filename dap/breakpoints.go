package dap

import (
	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/session"
)

// Breakpoint ids are unique for the connection (the engine reports hits by id).
func (c *conn) nextBPID() int { c.h.bp++; return c.h.bp }

func (c *conn) onSetBreakpoints(req *request) (any, error) {
	var a godap.SetBreakpointsArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	if a.Source.Path == "" {
		return nil, errorf("setBreakpoints needs a source path")
	}
	var in []session.LineBreakpoint
	if len(a.Breakpoints) == 0 && len(a.Lines) > 0 { // the deprecated form
		for _, l := range a.Lines {
			a.Breakpoints = append(a.Breakpoints, godap.SourceBreakpoint{Line: l})
		}
	}
	for _, b := range a.Breakpoints {
		lb := session.LineBreakpoint{ID: c.nextBPID(), Line: c.lineIn(b.Line), Condition: b.Condition, HitCondition: b.HitCondition}
		if b.LogMessage != "" {
			m := b.LogMessage
			lb.LogMessage = &m
		}
		in = append(in, lb)
	}
	res := c.dbg.SetLineBreakpoints(a.Source.Path, in)
	out := make([]godap.Breakpoint, len(res))
	for i, r := range res {
		src := a.Source
		out[i] = godap.Breakpoint{Id: r.ID, Verified: r.Verified, Line: c.lineOut(r.Line), Message: r.Message, Source: &src}
	}
	return godap.SetBreakpointsResponseBody{Breakpoints: out}, nil
}

func (c *conn) onSetFunctionBreakpoints(req *request) (any, error) {
	var a godap.SetFunctionBreakpointsArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	var in []session.FuncBreakpoint
	for _, b := range a.Breakpoints {
		in = append(in, session.FuncBreakpoint{ID: c.nextBPID(), Name: b.Name, Condition: b.Condition, HitCondition: b.HitCondition})
	}
	res := c.dbg.SetFunctionBreakpoints(in)
	out := make([]godap.Breakpoint, len(res))
	for i, r := range res {
		out[i] = godap.Breakpoint{Id: r.ID, Verified: r.Verified, Message: r.Message}
	}
	return godap.SetFunctionBreakpointsResponseBody{Breakpoints: out}, nil
}

func (c *conn) onSetExceptionBreakpoints(req *request) (any, error) {
	var a godap.SetExceptionBreakpointsArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	filters := append([]string(nil), a.Filters...)
	for _, o := range a.FilterOptions {
		filters = append(filters, o.FilterId)
	}
	if err := c.dbg.SetExceptionFilters(filters); err != nil {
		return nil, err
	}
	return nil, nil
}

func (c *conn) lineIn(l int) int {
	if c.linesAt1 {
		return l
	}
	return l + 1
}

func (c *conn) lineOut(l int) int {
	if c.linesAt1 || l == 0 {
		return l
	}
	return l - 1
}

func (c *conn) colOut(col int) int {
	if c.colsAt1 {
		return col
	}
	return col - 1
}
