package tui

import "github.com/charmbracelet/lipgloss"

// styles are built on one renderer, so the command can honour NO_COLOR (and
// the terminal's real colour profile) and the tests can render plain text.
// Nothing is conveyed by colour alone: markers (▶ ● + - ~ ━) carry the
// meaning, and colour only repeats it.
type styles struct {
	header, status, statusErr, title, titleFocus   lipgloss.Style
	current, selected, cursor, dim, bp, lineNo     lipgloss.Style
	added, removed, changed, scope, more, errorMsg lipgloss.Style
	input, help, helpKey, statusKey                lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	s := r.NewStyle
	return styles{
		header:     s().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("24")),
		status:     s().Foreground(lipgloss.Color("252")).Background(lipgloss.Color("236")),
		statusErr:  s().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("124")),
		title:      s().Foreground(lipgloss.Color("245")),
		titleFocus: s().Bold(true).Foreground(lipgloss.Color("39")),
		current:    s().Bold(true).Foreground(lipgloss.Color("16")).Background(lipgloss.Color("179")),
		selected:   s().Reverse(true),
		cursor:     s().Bold(true).Foreground(lipgloss.Color("16")).Background(lipgloss.Color("110")),
		dim:        s().Foreground(lipgloss.Color("243")),
		bp:         s().Foreground(lipgloss.Color("196")),
		lineNo:     s().Foreground(lipgloss.Color("243")),
		added:      s().Foreground(lipgloss.Color("77")),
		removed:    s().Foreground(lipgloss.Color("203")),
		changed:    s().Foreground(lipgloss.Color("221")),
		scope:      s().Bold(true),
		more:       s().Italic(true).Foreground(lipgloss.Color("110")),
		errorMsg:   s().Foreground(lipgloss.Color("203")),
		input:      s().Bold(true),
		help:       s(),
		helpKey:    s().Bold(true).Foreground(lipgloss.Color("39")),
		statusKey:  s().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("236")),
	}
}
