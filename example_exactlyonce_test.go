package visengine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/visengine-go/visengine"
	"github.com/visengine-go/visengine/journal"
	"github.com/visengine-go/visengine/visenginetest"
)

// ordinaria is a cheap service whose applicant is two values.
const ordinaria = "eccbc87e4b5ce2fe28308fd9f2a7baf3"

// A close whose answer is lost is not sent again by Submit: Resume
// finishes the submission once the settle time has passed, and sends
// nothing before.
func ExampleClient_Resume() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	// A short settle time for the example; the default is two minutes.
	c := srv.Client(visengine.WithCloseSettle(50 * time.Millisecond))
	ctx := context.Background()
	v, err := c.GetVisura(ctx, ordinaria)
	if err != nil {
		log.Fatal(err)
	}

	// The gateway answers 504 to the close, which never reaches the backend.
	srv.Fault(http.MethodPut, "/richiesta/{id}", visenginetest.Fault{Status: http.StatusGatewayTimeout})
	_, err = c.Submit(ctx, v, visengine.Values{"$0": "1378273", "$1": "RM"})
	var se *visengine.SubmitError
	if !errors.As(err, &se) || !errors.Is(err, visengine.ErrOutcomeUnknown) {
		log.Fatal(err)
	}
	fmt.Println("close outcome unknown for the draft:", se.ID != "")

	for {
		res, err := c.Resume(ctx, se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
		if err != nil {
			log.Fatal(err) // could not find out: try again later
		}
		if res.Status != visengine.ResolutionPending {
			fmt.Println(res.Status, "-", res.Reason)
			break
		}
		time.Sleep(time.Until(res.RetryAt)) // the lost close may still be applied
	}
	count, total := srv.Charges()
	fmt.Println("charges:", count, total)
	// Output:
	// close outcome unknown for the draft: true
	// resumed - was a draft; closed now
	// charges: 1 €4.90
}

// With a journal, Recover finishes what a lost answer, a crash or a dead
// replica left unfinished: run it at start-up and then periodically, on
// every replica.
func ExampleClient_Recover() {
	srv := visenginetest.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	j, err := journal.OpenDir(filepath.Join(dir, "journal")) // or journal.OpenPostgres for replicas
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	c := srv.Client(visengine.WithJournal(j), visengine.WithCloseSettle(50*time.Millisecond))
	ctx := context.Background()
	v, err := c.GetVisura(ctx, ordinaria)
	if err != nil {
		log.Fatal(err)
	}

	// Two submissions: the first one's close is lost on the way; the
	// second's draft is made but its answer is lost.
	srv.Fault(http.MethodPut, "/richiesta/{id}", visenginetest.Fault{Drop: visenginetest.DropBeforeApply})
	_, err = c.Submit(ctx, v, visengine.Values{"$0": "1378273", "$1": "RM"})
	fmt.Println("first:", errors.Is(err, visengine.ErrOutcomeUnknown))
	srv.Fault(http.MethodPost, "/richiesta", visenginetest.Fault{Drop: visenginetest.DropAfterApply})
	_, err = c.Submit(ctx, v, visengine.Values{"$0": "1378274", "$1": "RM"})
	fmt.Println("second:", errors.Is(err, visengine.ErrOutcomeUnknown))

	time.Sleep(60 * time.Millisecond) // the settle time
	report, err := c.Recover(ctx, j)
	if err != nil {
		log.Fatal(err)
	}
	for _, res := range report.Resolutions {
		fmt.Println(res.Status)
	}
	fmt.Println(report)
	count, total := srv.Charges()
	fmt.Println("charges:", count, total)
	// Output:
	// first: true
	// second: true
	// resumed
	// abandoned
	// visengine.RecoverReport{completed:0 resumed:1 abandoned:1 pending:0 failed:0 unknown:0}
	// charges: 1 €4.90
}

// The README's "Exactly once" section shows the two functions between the
// markers below (TestREADMEShowsTheSnippet checks it), compiled here and
// run by TestREADMEExactlyOnce.

// README begin

// finishLater is what a retry job does with Submit's error: after an unknown
// close, never submit again; Resume instead, once the settle time has passed.
func finishLater(ctx context.Context, c *visengine.Client, submitErr error) (*visengine.Resolution, error) {
	var se *visengine.SubmitError
	if !errors.As(submitErr, &se) || se.Step != visengine.StepClose || !errors.Is(submitErr, visengine.ErrOutcomeUnknown) {
		return nil, submitErr // not a lost close: see SubmitError
	}
	// Status: completed or resumed (paid once), pending (call again after
	// RetryAt), failed (refused: Err says why) or unknown (Reason says why).
	return c.Resume(ctx, se.ID, visengine.WithCloseSentAt(se.CloseSentAt))
}

// README end

// README begin

// keepRecovering runs Recover at start-up and then every few minutes, on
// every replica, with the client that submits: visengine.NewClient(token,
// visengine.WithJournal(j)), where j is journal.OpenPostgres(ctx, db) for
// replicas, or journal.OpenDir(path) for one process (close either before
// the process exits: defer j.Close()).
func keepRecovering(ctx context.Context, c *visengine.Client, j visengine.Journal, every time.Duration) error {
	for {
		report, err := c.Recover(ctx, j)
		if err != nil {
			log.Print(err) // the journal or ctx failed; report holds what was done
		}
		log.Printf("%+v", report) // a line per entry, without personal data
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// README end

// TestREADMEExactlyOnce runs the README's snippets against the fake.
func TestREADMEExactlyOnce(t *testing.T) {
	srv := visenginetest.NewServer()
	t.Cleanup(srv.Close)
	j, err := journal.OpenDir(filepath.Join(t.TempDir(), "journal"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	// A settle time long enough that Submit's own read-back and journal
	// writes (fsyncs, slow on a loaded machine) end within it.
	const settle = time.Second
	c := srv.Client(visengine.WithJournal(j), visengine.WithCloseSettle(settle))
	ctx := context.Background()
	v, err := c.GetVisura(ctx, ordinaria)
	require.NoError(t, err)
	srv.Fault(http.MethodPut, "/richiesta/{id}", visenginetest.Fault{Status: http.StatusBadGateway})
	_, submitErr := c.Submit(ctx, v, visengine.Values{"$0": "1378273", "$1": "RM"})
	res, err := finishLater(ctx, c, submitErr)
	require.NoError(t, err)
	assert.Equal(t, visengine.ResolutionPending, res.Status, "%v", res)
	_, err = finishLater(ctx, c, visengine.ErrInvalidArgument)
	assert.ErrorIs(t, err, visengine.ErrInvalidArgument)

	var logged strings.Builder
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	short, cancel := context.WithTimeout(ctx, settle+800*time.Millisecond) // past the settle time, with room
	defer cancel()
	assert.ErrorIs(t, keepRecovering(short, c, j, 50*time.Millisecond), context.DeadlineExceeded)
	assert.Contains(t, logged.String(), "resumed:1", "the lost close was finished")
	n, _ := srv.Charges()
	assert.Equal(t, 1, n)

}
