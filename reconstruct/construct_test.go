package reconstruct

import "testing"

func TestFrameModeNames(t *testing.T) {
	seen := map[string]bool{}
	for m := modeEntry; m <= modeClassBody; m++ {
		s := m.String()
		if seen[s] || s == "" || s[0] == 'f' {
			t.Errorf("mode %d: name %q missing or repeated", int(m), s)
		}
		seen[s] = true
	}
}

func TestExcRefExpr(t *testing.T) {
	if got := (excRef{known: true, current: true}).expr(); got != RT+".exc()" {
		t.Errorf("current exception: %s", got)
	}
	if got := (excRef{known: true, frame: 2, slot: 3}).expr(); got != RT+".handled(2, 3)" {
		t.Errorf("saved exception: %s", got)
	}
}

func TestSlotPlaceholders(t *testing.T) {
	r := &callRewrite{fi: &frameInfo{idx: 4, blockItems: 1}}
	r.level = 1
	inner := r.slot()
	r.level = 2
	outer := r.slot()
	r.add(0, 0, inner.expr()+"+"+outer.expr()+"@"+inner.number())
	r.resolve()
	// outer levels were evaluated first: their slots come first
	if got, want := r.repls[0].text, RT+".S(4, 2)+"+RT+".S(4, 1)@2"; got != want {
		t.Errorf("resolved %q, want %q", got, want)
	}
}
