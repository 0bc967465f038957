package templatecheck

// LoggingEnvironment returns the variables Lambda itself sets from the
// metric-publishing function's LoggingConfig: AWS_LAMBDA_LOG_FORMAT, and,
// with the JSON format, AWS_LAMBDA_LOG_LEVEL (the ApplicationLogLevel,
// INFO when the template sets none). The function's logger reads them, so
// a test that runs the binary as deployed sets them as Lambda would.
func (st *Stack) LoggingEnvironment() map[string]string {
	lc := asMap(st.Resources[st.FunctionID]["LoggingConfig"])
	format := scalarString(lc["LogFormat"])
	if format == "" {
		format = "Text"
	}
	env := map[string]string{"AWS_LAMBDA_LOG_FORMAT": format}
	if format == "JSON" {
		level := scalarString(lc["ApplicationLogLevel"])
		if level == "" {
			level = "INFO"
		}
		env["AWS_LAMBDA_LOG_LEVEL"] = level
	}
	return env
}
