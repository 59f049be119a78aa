// Command botagent is the on-VM agent of the bot pool: it converges the VM's bot
// containers to the desired state written by the bot-host script, and serves the health
// endpoint the Application Health extension probes. The logic is in package agent; this
// is wiring, with the Windows service parts behind build tags.
//
//	botagent desired   --template T --image REF --desired FILE   write the desired state of a deploy
//	botagent apply     --desired FILE [--timeout 20m]   converge once; exit 0 when converged
//	botagent check     --desired FILE                   print status JSON; exit 0 when healthy
//	botagent serve     --desired FILE [--interval 30s]  health endpoint + periodic repair
//	botagent install   --desired FILE                   (Windows) install/update and start the service
//	botagent uninstall                                  (Windows) stop and delete the service
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/botpool/botpool/agent"
)

// ServiceName is the Windows service that runs `botagent serve`.
const ServiceName = "botagent"

// Exit codes.
const (
	exitOK           = 0
	exitNotConverged = 1 // apply did not converge, or check found the VM unhealthy
	exitUsage        = 2 // bad flags, unreadable or invalid desired state, install failure
)

const usage = `usage:
  botagent desired   --template FILE --image REF --desired FILE
  botagent apply     --desired FILE [--timeout 20m] [--ready-timeout 5m] [--stop-timeout 30s] [--log FILE]
  botagent check     --desired FILE
  botagent serve     --desired FILE [--interval 30s] [--repair-grace 1m] [--log FILE]
  botagent install   --desired FILE [--interval 30s] [--repair-grace 1m] [--log FILE] [--path EXE]   (Windows)
  botagent uninstall                                                                          (Windows)
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the flags of every subcommand; each subcommand registers those it takes.
type options struct {
	desired      string
	timeout      time.Duration
	readyTimeout time.Duration
	stopTimeout  time.Duration
	interval     time.Duration
	repairGrace  time.Duration
	logFile      string
	installPath  string
	template     string
	image        string
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd := args[0]
	var o options
	fs := flag.NewFlagSet("botagent "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	desired := func() { fs.StringVar(&o.desired, "desired", "", "desired-state JSON file (agent.Desired)") }
	logf := func() { fs.StringVar(&o.logFile, "log", "", "also append the log to this file") }
	loop := func() {
		fs.DurationVar(&o.interval, "interval", agent.DefaultInterval, "time between checks and repairs")
		fs.DurationVar(&o.repairGrace, "repair-grace", agent.DefaultRepairGrace, "time an exited container is left to Docker's restart policy before it is recreated")
	}
	switch cmd {
	case "desired":
		desired()
		fs.StringVar(&o.template, "template", "", "desired-state template shipped by the Pulumi program (no image)")
		fs.StringVar(&o.image, "image", "", "image reference with tag of this deploy")
	case "apply":
		desired()
		logf()
		fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up (exit 1) when not converged after this long")
		fs.DurationVar(&o.readyTimeout, "ready-timeout", agent.DefaultReadyTimeout, "time a new container has to answer on its port")
		fs.DurationVar(&o.stopTimeout, "stop-timeout", agent.DefaultStopTimeout, "docker stop grace period")
	case "check":
		desired()
	case "serve":
		desired()
		logf()
		loop()
	case "install":
		desired()
		logf()
		loop()
		fs.StringVar(&o.installPath, "path", defaultInstallPath(), "where the service's copy of botagent is installed")
	case "uninstall":
	default:
		fmt.Fprintf(stderr, "botagent: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "botagent %s: unexpected arguments %q\n", cmd, fs.Args())
		return exitUsage
	}
	if cmd != "uninstall" && o.desired == "" {
		fmt.Fprintf(stderr, "botagent %s: --desired FILE is required\n", cmd)
		return exitUsage
	}
	switch cmd {
	case "desired":
		return report(stderr, cmd, composeDesired(o))
	case "apply":
		return apply(o, stdout, stderr)
	case "check":
		return check(o, stdout, stderr)
	case "serve":
		return serve(o, stderr)
	case "install":
		return report(stderr, cmd, install(o))
	default:
		return report(stderr, cmd, uninstall())
	}
}

func report(stderr io.Writer, cmd string, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "botagent %s: %s\n", cmd, oneLine(err.Error()))
		return exitUsage
	}
	return exitOK
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// newLogger logs to w, and also appends to the --log file when given.
func newLogger(o options, w io.Writer) (*slog.Logger, func(), error) {
	closeFn := func() {}
	if o.logFile != "" {
		f, err := openLog(o.logFile)
		if err != nil {
			return nil, nil, err
		}
		closeFn = func() { _ = f.Close() }
		if w == nil {
			w = f
		} else {
			w = io.MultiWriter(w, f)
		}
	}
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, nil)), closeFn, nil
}

// maxLogSize is where the log file is rotated (once, to FILE.1) when the agent starts.
const maxLogSize = 10 << 20

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// lockPath is shared by `apply` and `serve` given the same desired file.
func lockPath(desired string) string { return filepath.Join(filepath.Dir(desired), "botagent.lock") }

func newAgent(o options, log *slog.Logger) *agent.Agent {
	a := agent.New(fileLock{path: lockPath(o.desired)}, log)
	a.ReadyTimeout = o.readyTimeout
	a.StopTimeout = o.stopTimeout
	a.RepairGrace = o.repairGrace
	return a
}

// apply: the log goes to stdout (and --log); the verdict is one line on stderr.
func apply(o options, stdout, stderr io.Writer) int {
	d, err := agent.LoadDesired(o.desired)
	if err != nil {
		fmt.Fprintf(stderr, "botagent apply: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	log, closeLog, err := newLogger(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "botagent apply: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("apply timed out after %s", o.timeout))
	defer cancel()

	st, err := newAgent(o, log).Apply(ctx, d)
	if err != nil {
		fmt.Fprintf(stderr, "botagent apply: %s\n", oneLine(err.Error()))
		return exitNotConverged
	}
	fmt.Fprintf(stdout, "botagent apply: converged: %s\n", st.Summary())
	return exitOK
}

func check(o options, stdout, stderr io.Writer) int {
	d, err := agent.LoadDesired(o.desired)
	if err != nil {
		fmt.Fprintf(stderr, "botagent check: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := newAgent(o, nil).Check(ctx, d)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
	if !st.Healthy {
		fmt.Fprintf(stderr, "botagent check: %s\n", oneLine(st.Summary()))
		return exitNotConverged
	}
	return exitOK
}

// serveLoop is `serve` proper: on Windows it runs inside the service, elsewhere in the
// foreground until interrupted.
func serveLoop(ctx context.Context, o options, logTo io.Writer) error {
	log, closeLog, err := newLogger(o, logTo)
	if err != nil {
		return err
	}
	defer closeLog()
	m := &agent.Monitor{Agent: newAgent(o, log), DesiredPath: o.desired, Interval: o.interval}
	err = m.Run(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("serve stopped", "error", err)
		return err
	}
	return nil
}

func serve(o options, stderr io.Writer) int {
	if abs, err := filepath.Abs(o.desired); err == nil {
		o.desired = abs
	}
	if handled, err := runAsService(o); handled {
		return report(stderr, "serve", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return report(stderr, "serve", serveLoop(ctx, o, stderr))
}

// composeDesired composes the template and the deploy's image into the desired-state file
// that apply and the service read.
func composeDesired(o options) error {
	if o.template == "" || o.image == "" {
		return errors.New("--template FILE and --image REF are required")
	}
	tmpl, err := os.ReadFile(o.template)
	if err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	d, err := agent.Compose(tmpl, o.image)
	if err != nil {
		return err
	}
	return agent.WriteDesired(o.desired, d)
}
