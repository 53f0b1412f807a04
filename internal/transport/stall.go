package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"sync/atomic"
	"time"
)

// ErrStalled is matched by the error of an attempt that the stall watchdog
// cut: no byte went either way for the configured time. The root package
// re-exports it as visengine.ErrStalled.
var ErrStalled = errors.New("visengine: connection stalled")

// StallError is the error of an attempt cut by the watchdog. Like the
// errors of a connection's read and write deadlines it matches
// os.ErrDeadlineExceeded and reports Timeout() true (net.Error); it also
// matches ErrStalled, and a response body cut short matches
// io.ErrUnexpectedEOF. It is not context.DeadlineExceeded: the caller's
// context has not ended.
type StallError struct {
	Idle time.Duration // the configured stall timeout
	Body bool          // the response body stalled (the status and headers had arrived)
}

func (e *StallError) Error() string {
	if e.Body {
		return fmt.Sprintf("connection stalled: no byte of the answer's body for %s", e.Idle)
	}
	return fmt.Sprintf("connection stalled: no byte sent or received for %s", e.Idle)
}

// Timeout reports true, as net.Error's timeouts do.
func (e *StallError) Timeout() bool { return true }

// Is matches ErrStalled, os.ErrDeadlineExceeded and, for a body cut short,
// io.ErrUnexpectedEOF.
func (e *StallError) Is(target error) bool {
	return target == ErrStalled || target == os.ErrDeadlineExceeded || e.Body && target == io.ErrUnexpectedEOF
}

// watchdog cuts one attempt when the network makes no progress for idle. It
// measures only time spent waiting on the network: while the attempt is in
// net/http's hands (dialling, writing the request, waiting for the answer)
// every sign of progress re-arms it; once the answer is handed over it is
// paused between the caller's reads of the body, so a slow consumer (a slow
// disk behind DownloadDocumento) is never taken for a stalled server.
type watchdog struct {
	idle   time.Duration
	start  time.Time    // origin of last, for a monotonic clock
	last   atomic.Int64 // nanoseconds since start of the last progress
	paused atomic.Bool  // between two reads of the response body
	done   atomic.Bool  // the attempt is over: the watchdog never fires again
	fired  atomic.Bool
	body   atomic.Bool                // the answer's headers arrived: a stall now is the body's
	timer  atomic.Pointer[time.Timer] // set once, read by the timer's own callback
	cancel context.CancelCauseFunc
}

// startWatchdog derives the attempt's context from ctx and arms the
// watchdog on it; the caller installs its trace (attemptClientTrace).
func startWatchdog(ctx context.Context, idle time.Duration) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{idle: idle, start: time.Now(), cancel: cancel}
	// Armed far away, then brought forward once stored, so check never
	// runs before w.timer is set.
	t := time.AfterFunc(time.Hour, w.check)
	w.timer.Store(t)
	t.Reset(idle)
	return ctx, w
}

// progress records that bytes moved.
func (w *watchdog) progress() { w.last.Store(int64(time.Since(w.start))) }

// check runs when the timer fires: it cuts the attempt if nothing moved for
// idle, and otherwise re-arms for the time left.
func (w *watchdog) check() {
	if w.done.Load() {
		return
	}
	if w.paused.Load() {
		w.timer.Load().Reset(w.idle)
		return
	}
	quiet := time.Since(w.start) - time.Duration(w.last.Load())
	if quiet < w.idle {
		w.timer.Load().Reset(w.idle - quiet)
		return
	}
	w.fired.Store(true)
	w.cancel(w.err())
}

func (w *watchdog) err() *StallError { return &StallError{Idle: w.idle, Body: w.body.Load()} }

// stop ends the watchdog and releases the attempt's context.
func (w *watchdog) stop() {
	w.done.Store(true)
	w.timer.Load().Stop()
	w.cancel(context.Canceled)
}

// trace re-arms the watchdog at each step net/http reports.
func (w *watchdog) trace() *httptrace.ClientTrace {
	p := func() { w.progress() }
	return &httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { p() },
		WroteHeaders:         p,
		WroteRequest:         func(httptrace.WroteRequestInfo) { p() },
		Got100Continue:       p,
		Got1xxResponse:       func(int, textproto.MIMEHeader) error { p(); return nil },
		GotFirstResponseByte: p,
	}
}

// result turns the attempt's outcome into what RoundTrip returns: the
// stall error when the watchdog cut it, and a response whose body keeps
// being watched.
func (w *watchdog) result(resp *http.Response, err error) (*http.Response, error) {
	if err != nil {
		w.stop()
		if w.fired.Load() {
			return nil, w.err()
		}
		return nil, err
	}
	w.body.Store(true)
	w.paused.Store(true)
	resp.Body = &watchedBody{rc: resp.Body, w: w}
	return resp, nil
}

// smallRequestBody is the largest request body left unwatched: it fits in
// the kernel's socket send buffer (16 KiB by default on Linux), so writing
// it never waits for the peer and needs no progress reports between reads.
// Wrapping it would cost a TCP segment: net/http flushes the headers apart
// from a body it does not know to be in memory.
const smallRequestBody = 16 << 10

// requestBody watches a large request body: each read means the transport
// wrote what it read before, so the watchdog runs between reads. A stall
// while writing a small body is still caught: no progress is reported
// after the headers, so the watchdog fires.
func (w *watchdog) requestBody(req *http.Request) {
	if req.ContentLength > 0 && req.ContentLength <= smallRequestBody {
		return
	}
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &watchedRequestBody{rc: req.Body, w: w}
	}
	if get := req.GetBody; get != nil {
		req.GetBody = func() (io.ReadCloser, error) {
			rc, err := get()
			if err != nil || rc == nil || rc == http.NoBody {
				return rc, err
			}
			return &watchedRequestBody{rc: rc, w: w}, nil
		}
	}
}

type watchedRequestBody struct {
	rc io.ReadCloser
	w  *watchdog
}

func (b *watchedRequestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.w.progress()
	}
	return n, err
}

func (b *watchedRequestBody) Close() error { return b.rc.Close() }

// watchedBody is the answer's body. The watchdog runs only while a Read
// waits on the network; EOF, an error or Close ends it.
type watchedBody struct {
	rc io.ReadCloser
	w  *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.w.done.Load() {
		if b.w.fired.Load() {
			return 0, b.w.err()
		}
		return b.rc.Read(p)
	}
	b.w.progress()
	b.w.paused.Store(false)
	n, err := b.rc.Read(p)
	b.w.progress()
	b.w.paused.Store(true)
	if b.w.fired.Load() {
		b.w.stop()
		return n, b.w.err()
	}
	if err != nil {
		// At EOF net/http has already put the connection back in its
		// pool, so ending the attempt's context costs nothing.
		b.w.stop()
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	b.w.stop()
	return err
}
