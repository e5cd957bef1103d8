package pagetoken

import (
	"errors"
	"testing"
)

func TestRoundTripAndRejection(t *testing.T) {
	fp := Fingerprint("branches/ai", "ACTIVE")
	tok := Encode("r0123", fp)
	if got, err := Decode(tok, fp); err != nil || got != "r0123" {
		t.Fatalf("Decode = %q, %v", got, err)
	}
	for name, raw := range map[string]string{
		"garbage":       "!!!",
		"not json":      "bm90IGpzb24",
		"other filters": Encode("r0123", Fingerprint("branches/ai", "SUSPENDED")),
	} {
		if _, err := Decode(raw, fp); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[int32]int{0: DefaultSize, 5: 5, 1000: MaxSize} {
		if got, err := Size(in); err != nil || got != want {
			t.Errorf("Size(%d) = %d, %v", in, got, err)
		}
	}
	if _, err := Size(-1); err == nil {
		t.Error("Size(-1) should fail")
	}
}
