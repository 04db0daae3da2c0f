package problem

import (
	"errors"
	"fmt"
	"testing"
)

// TestOf: the user's message is found through any wrapping, only for its
// own kind, and an ordinary error has none.
func TestOf(t *testing.T) {
	err := fmt.Errorf("schedules: add override: %w", Invalidf("unknown rotation %q", "ops"))
	if msg, ok := Of(err, Invalid); !ok || msg != `unknown rotation "ops"` {
		t.Errorf("Of(Invalid) = %q, %t", msg, ok)
	}
	if _, ok := Of(err, NotFound); ok {
		t.Error("an Invalid error read as NotFound")
	}
	if msg, ok := Of(errors.Join(errors.New("disk"), NotFoundf("no announcement %d", 4)), NotFound); !ok || msg != "no announcement 4" {
		t.Errorf("Of(NotFound) = %q, %t", msg, ok)
	}
	if _, ok := Of(errors.New("routing: invalid note: too long"), Invalid); ok {
		t.Error("a plain error read as a refusal by its text")
	}
}
