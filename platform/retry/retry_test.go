package retry

import (
	"context"
	"errors"
	"testing"
)

var errStale = errors.New("stale")

func isStale(err error) bool { return errors.Is(err, errStale) }

func TestConflicts(t *testing.T) {
	tests := []struct {
		name      string
		failures  int   // conflicts before success
		permanent error // returned on the first call instead
		wantCalls int
		wantErr   error
	}{
		{"first try", 0, nil, 1, nil},
		{"wins after conflicts", 3, nil, 4, nil},
		{"gives up after Attempts", Attempts + 5, nil, Attempts, ErrExhausted},
		{"other errors are not retried", 0, errors.New("refused"), 1, nil},
		{"an other error on the last try comes back as it is", Attempts - 1, errors.New("refused late"), Attempts, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, err := Conflicts(context.Background(), isStale, func() (int, error) {
				calls++
				if calls <= tt.failures {
					return 0, errStale
				}
				if tt.permanent != nil {
					return 0, tt.permanent
				}
				return calls, nil
			})
			if err == nil && got != calls {
				t.Fatalf("returned %d, want the successful attempt's %d", got, calls)
			}
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.permanent != nil:
				if err != tt.permanent {
					t.Fatalf("err = %v, want the error itself", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, errStale) {
					t.Fatalf("err = %v, want ErrExhausted wrapping the conflict", err)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestConflictsStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	_, err := Conflicts(ctx, isStale, func() (struct{}, error) { calls++; return struct{}{}, errStale })
	if err == nil || calls > 1 {
		t.Fatalf("err = %v after %d calls, want the context's error at once", err, calls)
	}
}
