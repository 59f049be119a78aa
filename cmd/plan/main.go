// Command plan shows what a stack will create, and the bot address book, without Azure.
//
//	go run ./cmd/plan --stack dev
//	go run ./cmd/plan --stack prod --json
//	go run ./cmd/plan --config my-change.yaml
//
// It runs the program `pulumi up` runs (program.New) under Pulumi's mock monitor with the
// stack's config, secure values replaced by placeholders, and reports what it registered.
// An invalid config exits 1 with the validation messages `pulumi up` would give on stderr.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/botpool/botpool/mockcloud"
	"github.com/botpool/botpool/plan"
)

const usage = `usage: go run ./cmd/plan [--stack NAME | --config FILE] [--json] [--dir DIR]

Runs the botpool program under Pulumi's mock monitor (no Azure account, no Pulumi CLI)
and reports what the stack would register, its outputs, the load balancer limit usage
and the bot address book.

`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it writes the plan to stdout, or problems to stderr and nothing to
// stdout. It returns the exit status: 0 planned, 1 invalid config or failed run, 2 usage.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "plan stack `NAME` from Pulumi.NAME.yaml beside Pulumi.yaml")
	file := fs.String("config", "", "plan the stack config `FILE` (the shape of Pulumi.<stack>.yaml); the stack name is\n"+
		"taken from Pulumi.<stack>.yaml file names, or from --stack")
	asJSON := fs.Bool("json", false, "print the plan as JSON (for machines)")
	dir := fs.String("dir", "", "the project directory holding Pulumi.yaml (default: the nearest one at or above the current directory)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || (*stack == "" && *file == "") {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "plan: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintln(stderr, "plan: give --stack NAME or --config FILE")
		}
		fs.Usage()
		return 2
	}

	st, err := load(*dir, *stack, *file)
	if err != nil {
		fmt.Fprintln(stderr, "plan:", err)
		return 1
	}
	res, err := plan.Run(st)
	if err != nil {
		// The program's own messages, exactly as `pulumi up` would print them.
		fmt.Fprintln(stderr, err)
		return 1
	}
	var out []byte
	if *asJSON {
		if out, err = res.JSON(); err != nil {
			fmt.Fprintln(stderr, "plan:", err)
			return 1
		}
	} else {
		var buf bytes.Buffer
		if err := res.WriteText(&buf); err != nil {
			fmt.Fprintln(stderr, "plan:", err)
			return 1
		}
		out = buf.Bytes()
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintln(stderr, "plan:", err)
		return 1
	}
	return 0
}

// load finds the project and reads the stack's config file.
func load(dir, stack, file string) (mockcloud.Stack, error) {
	if dir == "" {
		dir = "."
	}
	root, err := plan.FindProjectDir(dir)
	if err != nil {
		return mockcloud.Stack{}, err
	}
	project, err := plan.ProjectName(root)
	if err != nil {
		return mockcloud.Stack{}, err
	}
	if file == "" {
		file = plan.StackFile(root, stack)
	} else if stack == "" {
		stack = plan.StackNameFromFile(file)
	}
	return plan.ReadStackFile(project, stack, file)
}
