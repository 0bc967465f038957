package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognitrail/cognitrail/internal/bytesize"
	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// parseFlags parses a command's flags the same way for every command:
// flags may come anywhere among the arguments (before, between or after the
// paths), and "--" ends them, so that a following "-x" is an argument;
// -h/--help prints the usage on stdout and exits 0; a bad flag or flag value
// is named on stderr (the flag package says why) with the usage, exit 2.
// The arguments that are not flags are fl.Args(), in their order.
// When ok is false the command returns code.
func parseFlags(fl *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fl.SetOutput(stderr)
	fl.Usage = func() {}
	flags, pos := splitFlags(fl, args)
	err := fl.Parse(flags)
	if err == nil {
		// Parse again with only the arguments, after "--", so that
		// fl.Args() holds them all whatever they look like.
		err = fl.Parse(append([]string{"--"}, pos...))
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout, fl, synopsis)
		return exitOK, false
	case err != nil:
		printUsage(stderr, fl, synopsis)
		return exitUsage, false
	}
	return exitOK, true
}

// splitFlags separates args into the flags of fl (each with its value, when
// the flag takes one as the next argument) and the other arguments. A word
// is a flag when it starts with "-" and is not "-" itself (standard input);
// after "--" no word is. A flag fl does not define is kept among the flags,
// for the flag package to refuse it.
func splitFlags(fl *flag.FlagSet, args []string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fl.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, pos
}

// printUsage prints the synopsis and every flag of fl, from the flag set
// itself, so that the usage cannot leave a flag out.
func printUsage(w io.Writer, fl *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n", synopsis)
	has := false
	fl.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "flags:")
		out := fl.Output()
		fl.SetOutput(w)
		fl.PrintDefaults()
		fl.SetOutput(out)
	}
}

// loadConfig reads, for a command that acts as the function or on its
// resources, the function's settings from the environment (as the Lambda
// does) and the default AWS configuration, which must name a Region. Either
// wrong is a configuration error told at start (exit 2), not at the first
// call; when ok is false the command returns exitUsage.
func loadConfig(ctx context.Context, cmd string, stderr io.Writer) (cfg lambdaapp.Config, awsCfg aws.Config, ok bool) {
	cfg, err := lambdaapp.ConfigFromEnv(os.Getenv)
	if err == nil {
		awsCfg, err = lambdaapp.LoadAWSConfig(ctx)
	}
	if err == nil && awsCfg.Region == "" {
		err = errors.New("no AWS Region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the profile)")
	}
	if err != nil {
		fmt.Fprintf(stderr, "cognitrail %s: configuration: %v\n", cmd, err)
		return cfg, awsCfg, false
	}
	return cfg, awsCfg, true
}

// envDefault sets *p from the environment variable env when the flag name
// was not given on the command line: the usage names the variable as the
// default, once, and does not vary with the environment; a flag given
// (even empty) wins.
func envDefault(fl *flag.FlagSet, name, env string, p *string) {
	given := false
	fl.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if !given {
		*p = os.Getenv(env)
	}
}

// named is err's message naming the file path once: the errors of a file
// often name it already (a trailfile.Error, an *os.PathError, s3object's
// s3:// URL), and a second name in front only repeats it.
func named(path string, err error) string {
	msg := err.Error()
	if path == "" || strings.Contains(msg, path) {
		return msg
	}
	return path + ": " + msg
}

// unnamed is err's message without the file path it starts with, for a
// place that names the file itself (a table's File column, a line that
// starts with it).
func unnamed(path string, err error) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

// usageError says what is wrong with the command line, then the usage.
func usageError(stderr io.Writer, fl *flag.FlagSet, synopsis, format string, args ...any) int {
	fmt.Fprintf(stderr, "cognitrail %s: %s\n", fl.Name(), fmt.Sprintf(format, args...))
	printUsage(stderr, fl, synopsis)
	return exitUsage
}

// choice is a flag whose value is one of a fixed list. An alias is an
// older word still taken for one of them (the usage names only the list).
type choice struct {
	value   string
	allowed []string
	aliases map[string]string
}

func newChoice(def string, allowed ...string) *choice { return &choice{value: def, allowed: allowed} }

func (c *choice) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choice) Set(s string) error {
	if a, ok := c.aliases[s]; ok {
		s = a
	}
	for _, a := range c.allowed {
		if s == a {
			c.value = s
			return nil
		}
	}
	last := len(c.allowed) - 1
	return fmt.Errorf("want %s or %s", strings.Join(c.allowed[:last], ", "), c.allowed[last])
}

// byteSize is a flag holding a positive byte count written as bytesize
// parses it (1048576, 500MB, 2GiB).
type byteSize int64

func (b *byteSize) String() string {
	if b == nil {
		return ""
	}
	return bytesize.Format(int64(*b))
}

func (b *byteSize) Set(s string) error {
	n, err := bytesize.Parse(s)
	if err != nil {
		return err
	}
	if n <= 0 {
		return errors.New("want a positive byte count")
	}
	*b = byteSize(n)
	return nil
}

// levelFlag is a metric detail level.
type levelFlag struct{ metric.Level }

func (l *levelFlag) String() string {
	if l == nil || l.Level == 0 {
		return ""
	}
	return l.Level.String()
}

func (l *levelFlag) Set(s string) error {
	v, err := metric.ParseLevel(s)
	if err != nil {
		return err
	}
	l.Level = v
	return nil
}

// positiveInt is an int flag that must be above zero.
type positiveInt int

func (p *positiveInt) String() string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(int(*p))
}

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return errors.New("want a positive integer")
	}
	*p = positiveInt(n)
	return nil
}
