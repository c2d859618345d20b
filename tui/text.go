package tui

import (
	"strings"

	"github.com/mattn/go-runewidth"
)

// fit truncates plain text to w cells (ending it with "…" when cut) and pads
// it with spaces to exactly w cells. Styling is applied after fitting, so
// every width computation works on plain text.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = clean(s)
	sw := runewidth.StringWidth(s)
	if sw > w {
		return runewidth.Truncate(s, w, "…") + strings.Repeat(" ", w-runewidth.StringWidth(runewidth.Truncate(s, w, "…")))
	}
	return s + strings.Repeat(" ", w-sw)
}

// trunc truncates without padding.
func trunc(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = clean(s)
	if runewidth.StringWidth(s) > w {
		return runewidth.Truncate(s, w, "…")
	}
	return s
}

func width(s string) int { return runewidth.StringWidth(s) }

// clean makes text safe to draw: tabs become spaces, other control
// characters (which could move the cursor or change the terminal) become
// visible escapes.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch {
		case r == '\t':
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteString("␛")
		default:
			b.WriteRune(r)
		}
		col += runewidth.RuneWidth(r)
	}
	return b.String()
}

func padLines(lines []string, n int, w int) []string {
	for len(lines) < n {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines[:n]
}

func pad(s string, w int) string {
	if d := w - width(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}
