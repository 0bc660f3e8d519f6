package resp

import "testing"

func TestScriptingAnswersAClearError(t *testing.T) {
	h := newHarness(t)
	for _, line := range []string{`EVAL "return 1" 0`, "EVALSHA abc 0", "SCRIPT LOAD x", "SCRIPT FLUSH", "FUNCTION LIST", "FCALL f 0"} {
		if got := h.do(line); got != "(error) "+scriptingMsg {
			t.Errorf("%s: %s", line, got)
		}
	}
	if got := h.do("EVAL"); got != "(error) ERR wrong number of arguments for 'eval' command" {
		t.Errorf("EVAL without arguments: %s", got)
	}
}
