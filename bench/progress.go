package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// isTerminal reports whether w is a character device (a terminal), where
// progress is drawn as bars; elsewhere it is written as plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows how far each task (a configuration, a scenario) has come.
type progress interface {
	// Step records that task has done done of total steps; note is shown beside it.
	Step(task string, done, total int, note string)
	// Wait finishes drawing.
	Wait()
}

// newProgress returns bars on a terminal and plain lines (at most one per
// task every few seconds, and at completion) elsewhere.
func newProgress(ctx context.Context, w io.Writer) progress {
	if isTerminal(w) {
		return &barProgress{p: mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(32)), bars: map[string]*mpb.Bar{}}
	}
	return &lineProgress{w: w, last: map[string]time.Time{}}
}

type barProgress struct {
	mu   sync.Mutex
	p    *mpb.Progress
	bars map[string]*mpb.Bar
	note map[string]string
}

func (b *barProgress) Step(task string, done, total int, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.note == nil {
		b.note = map[string]string{}
	}
	b.note[task] = note
	bar := b.bars[task]
	if bar == nil {
		bar = b.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-22s", task)), decor.CountersNoUnit(" %d/%d")),
			mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace), decor.Any(func(decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				return " " + b.note[task]
			})),
		)
		b.bars[task] = bar
	}
	bar.SetCurrent(int64(done))
}

func (b *barProgress) Wait() {
	b.mu.Lock()
	for _, bar := range b.bars {
		if !bar.Completed() {
			bar.Abort(false)
		}
	}
	b.mu.Unlock()
	b.p.Wait()
}

type lineProgress struct {
	mu   sync.Mutex
	w    io.Writer
	last map[string]time.Time
}

func (l *lineProgress) Step(task string, done, total int, note string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if done < total && time.Since(l.last[task]) < 5*time.Second {
		return
	}
	l.last[task] = time.Now()
	fmt.Fprintf(l.w, "  %-22s %d/%d %s\n", task, done, total, note)
}

func (l *lineProgress) Wait() {}
