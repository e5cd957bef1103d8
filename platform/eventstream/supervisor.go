package eventstream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// SupervisorConfig configures a Supervisor.
type SupervisorConfig struct {
	// Keys lists what needs a runner now, such as the branches whose
	// streams a service follows. A key once listed keeps its runner.
	Keys func(ctx context.Context) ([]string, error)
	// Runner builds the runner of one key.
	Runner func(key string) (*Runner, error)
	// Interval between looks for new keys; default 5s.
	Interval time.Duration
	Logger   *slog.Logger
}

// Supervisor runs one Runner per key of a set that grows while the
// service runs: a stream per branch, when branches are created through the
// API rather than configured. It looks for new keys at start and then
// every Interval; runners are never stopped, since branches are not
// deleted.
type Supervisor struct {
	cfg SupervisorConfig

	mu      sync.Mutex
	runners map[string]*Runner
	start   chan *Runner
	lastErr error
}

// NewSupervisor validates cfg.
func NewSupervisor(cfg SupervisorConfig) (*Supervisor, error) {
	if cfg.Keys == nil || cfg.Runner == nil {
		return nil, errors.New("eventstream: SupervisorConfig needs Keys and Runner")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{cfg: cfg, runners: map[string]*Runner{}, start: make(chan *Runner, 64)}, nil
}

// Sync looks for new keys once and builds their runners; Run starts them.
func (s *Supervisor) Sync(ctx context.Context) error {
	keys, err := s.cfg.Keys(ctx)
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, key := range keys {
		s.mu.Lock()
		_, known := s.runners[key]
		s.mu.Unlock()
		if known {
			continue
		}
		r, err := s.cfg.Runner(key)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.runners[key] = r
		s.mu.Unlock()
		select {
		case s.start <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Run looks for keys until ctx is done, running each key's runner.
func (s *Supervisor) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		tick := time.NewTicker(s.cfg.Interval)
		defer tick.Stop()
		for {
			if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.WarnContext(ctx, "events: listing streams to follow; will retry", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-s.start:
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = r.Run(ctx)
			}()
		}
	}
}

// Check is a readiness probe: the keys could be listed last time, and
// every runner's source is reachable.
func (s *Supervisor) Check(ctx context.Context) error {
	s.mu.Lock()
	err := s.lastErr
	runners := make([]*Runner, 0, len(s.runners))
	for _, r := range s.runners {
		runners = append(runners, r)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, r := range runners {
		if err := r.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Runner returns the runner of key, or nil; tests step it with RunOnce.
func (s *Supervisor) Runner(key string) *Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runners[key]
}
