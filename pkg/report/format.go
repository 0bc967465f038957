package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as indented JSON. Lists are never null, so a
// consumer can iterate them without checks.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(r)
}

// WriteText writes the report for a person: one titled table per query,
// numbered as in the developer guide.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("Cognito user pool events (eventSource cognito-idp.amazonaws.com): %d\n", r.Records)

	events := func(title string, list []Event, sub bool) {
		p("\n%s\n", title)
		if len(list) == 0 {
			p("  (none)\n")
			return
		}
		if sub {
			p("  TIME\tEVENT NAME\tSOURCE IP\tUSER POOL\tSUB\n")
		} else {
			p("  TIME\tEVENT NAME\tCATEGORY\tERROR CODE\tSOURCE IP\tUSER POOL\n")
		}
		for _, e := range list {
			t := e.Time.UTC().Format(time.RFC3339)
			if sub {
				p("  %s\t%s\t%s\t%s\t%s\n", t, e.EventName, dash(e.SourceIP), dash(e.UserPoolID), dash(e.Sub))
			} else {
				p("  %s\t%s\t%s\t%s\t%s\t%s\n", t, e.EventName, e.Category, dash(e.ErrorCode), dash(e.SourceIP), dash(e.UserPoolID))
			}
		}
	}
	countTable := func(title string, list []Count, name bool) {
		p("\n%s\n", title)
		if len(list) == 0 {
			p("  (none)\n")
			return
		}
		if name {
			p("  COUNT\tSOURCE IP\tEVENT NAME\n")
		} else {
			p("  COUNT\tSOURCE IP\n")
		}
		for _, c := range list {
			if name {
				p("  %d\t%s\t%s\n", c.Count, dash(c.SourceIP), c.EventName)
			} else {
				p("  %d\t%s\n", c.Count, dash(c.SourceIP))
			}
		}
	}

	events(fmt.Sprintf("1. The %d most recent events", Limit), r.MostRecent, false)
	events(fmt.Sprintf("2. The %d most recent events that include exceptions", Limit), r.RecentExceptions, false)
	events(fmt.Sprintf("3. The %d most recent NotAuthorizedException events, with the user pool sub", Limit), r.RecentNotAuthorized, true)
	countTable("4. Events by source IP and event name", r.ByIPAndEventName, true)
	if r.PairsOmitted > 0 {
		p("  ... and %d more pairs\n", r.PairsOmitted)
	}
	countTable(fmt.Sprintf("5. The top %d IP addresses that triggered NotAuthorizedException", Limit), r.TopNotAuthorizedIPs, true)
	countTable(fmt.Sprintf("6. The top %d IP addresses that called ForgotPassword", Limit), r.TopForgotPasswordIPs, false)
	return tw.Flush()
}

// dash stands in for an empty field so columns stay aligned and readable.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
