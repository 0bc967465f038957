# cognitrail — see README.md. `make run` and `make test` are the two commands
# a newcomer runs; CI runs `make test` through .ci/run.

GO        ?= go
GOFLAGS   ?= -trimpath
BIN       := bin
SAMPLES   := events/trails
PKGS      := ./...

.PHONY: run test cost-count stress-test sim mutate unit lint vet fmt-check staticcheck fuzz-seeds bench tools clean build

## run: scan the sample trail files in events/ and print the summary (no AWS account).
run:
	@echo "building cognitrail (a minute or two the first time, on a cold build cache), then scanning $(SAMPLES)" >&2
	@$(GO) build -o $(BIN)/cognitrail ./cmd/cognitrail
	$(BIN)/cognitrail scan $(SAMPLES)

## test: everything: formatting, vet, unit + golden + fuzz seeds, integration tests (moto_server), template lint.
test: fmt-check vet staticcheck lint-template
	$(GO) test -count=1 $(PKGS)
	$(MAKE) cost-count

## cost-count: the request-counting test on the whole 1,000 files README's
## cost table gives (go test ./... runs 200 of them, alike in batches of 100).
cost-count:
	$(GO) test -count=1 -run '^TestBufferedRequestCounts$$' ./internal/lambdaapp -costfiles=1000

## stress-test: the whole suite three times while two busy loops keep both
## cores loaded (a test that fails under load is a defect); the loops are
## stopped whatever the outcome.
stress-test:
	@sh -c 'while :; do :; done' & b1=$$!; sh -c 'while :; do :; done' & b2=$$!; \
	trap 'kill $$b1 $$b2 2>/dev/null' EXIT INT TERM; \
	CI=true $(GO) test -count=3 $(PKGS)

## sim: the deterministic simulation of the delivery protocol over SEEDS
## seeds on every core (go test ./... runs 200); a failing seed prints the
## command that replays it with a trace. GOGC=400: a seed's garbage is
## small and short-lived; collecting it less often saves a fifth of the run.
SEEDS ?= 10000
FIRST_SEED ?= 1
sim:
	GOGC=400 $(GO) test -count=1 -timeout 0 -run '^TestSimulation$$' ./internal/sim -seeds $(SEEDS) -seed $(FIRST_SEED)

## mutate: mutation testing (gremlins, pinned; fetched through the Go module
## proxy on first use) of the engine packages, each scored on its own tests:
## prints every package's test efficacy (killed / (killed + lived)) and fails
## when one is under MUTATE_THRESHOLD percent. Not part of `make test`: about
## 90 minutes on 2 cores (pkg/processor alone about 30). Run it before a
## release and after changing an engine package (MUTATE_PKGS=pkg/x to score
## one). GOFLAGS=-count=1 keeps the
## coverage run, which sets each mutant's timeout, from being a cached one;
## CI is unset so that the packages' own tests behave as on a developer's
## machine. Survivors judged equivalent are listed in each package's
## mutants_test.go. internal/sim is scored on its model of DynamoDB (dynamo.go,
## expr.go: what TestModelMatchesMoto holds to moto_server) with -short (50
## seeds): the whole simulator under 200 seeds a mutant would take hours.
GREMLINS         := github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATE_PKGS      ?= internal/jsonscan pkg/record pkg/metric pkg/class pkg/notification pkg/trailfile pkg/aggregate pkg/finding pkg/ledger pkg/fault pkg/processor internal/sim
MUTATE_FLAGS     ?= --invert-logical --invert-loopctrl --invert-assignments --remove-self-assignments
MUTATE_THRESHOLD ?= 90
# Scored and printed, not held to the threshold: the delivery protocol's real
# tests are the simulation and the moto tests of internal/lambdaapp, which a
# package's own tests do not include (pkg/processor 58 % on its unit tests).
MUTATE_REPORT_ONLY ?= pkg/processor internal/sim
mutate:
	@mkdir -p $(BIN)/mutate
	GOBIN=$(abspath $(BIN)) $(GO) install $(GREMLINS)
	@fail=; for p in $(MUTATE_PKGS); do \
		out=$(abspath $(BIN))/mutate/$$(echo $$p | tr / _).txt; \
		echo "mutate: $$p (survivors and the report: $$out)" >&2; \
		only=; gf=-count=1; \
		case $$p in internal/sim) only='--exclude-files (check|faults|run|scenario|services|world)\.go$$'; gf="-count=1 -short";; esac; \
		(cd $$p && env -u CI GOFLAGS="$$gf" $(abspath $(BIN))/gremlins unleash $(MUTATE_FLAGS) $$only -S lt) >$$out 2>&1 || \
			{ cat $$out; echo "mutate: gremlins failed on $$p" >&2; exit 1; }; \
		score=$$(sed -n 's/^Test efficacy: *\([0-9.]*\)%.*/\1/p' $$out); \
		case " $(MUTATE_REPORT_ONLY) " in *" $$p "*) echo "$$p $${score:-?}% (reported, not held to $(MUTATE_THRESHOLD)%)"; continue;; esac; \
		echo "$$p $${score:-?}%"; \
		if [ -z "$$score" ] || ! awk -v s="$$score" -v t="$(MUTATE_THRESHOLD)" 'BEGIN { exit !(s >= t) }'; then fail="$$fail $$p"; fi; \
	done; \
	if [ -n "$$fail" ]; then echo "mutate: under $(MUTATE_THRESHOLD)%:$$fail (survivors in $(BIN)/mutate/)" >&2; exit 1; fi

## unit: the fast offline part only.
unit:
	$(GO) test $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## staticcheck: 2026.2.2 (module v0.8.2), fetched through the Go module proxy on first use.
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

## bench: throughput, allocations and peak memory on generated trail files;
## `scan --format json` CPU and wall time over the inflate floor on one
## core and on all (BenchmarkCLIRatio); peak RSS of `scan` (table and json,
## each in a child process) and of the handler end to end (moto_server) on
## a 30-day file of 100,000 records.
bench:
	$(GO) test -run '^$$' -bench 'Inflate|Scan|Naive|CPURatio' -benchmem -benchtime 5x ./pkg/scan/
	$(GO) test -run '^$$' -bench 'LargeFile' -benchtime 1x ./pkg/scan/
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'Reader' -benchtime 5x ./internal/inflate/
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'FramingFloor' -benchtime 7x ./pkg/trailfile/
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'CLIRatio' -benchtime 7x ./cmd/cognitrail/
	$(GO) test -run '^$$' -bench 'CLIRatio' -benchtime 7x ./cmd/cognitrail/
	$(GO) test -run '^$$' -bench 'ScanMonthRSS' -benchtime 1x ./cmd/cognitrail/
	$(GO) test -run '^$$' -bench 'ScanDirectory' -benchtime 7x ./cmd/cognitrail/
	$(GO) test -run '^$$' -bench 'LargeObject' -benchtime 1x ./internal/lambdaapp/

clean:
	rm -rf $(BIN) .aws-sam

# ---------------------------------------------------------------- SAM deploy
# template.yaml is linted by cfn-lint in `make test` (pinned version below) and
# checked against the metric catalog by internal/templatecheck (go test).
# `sam` is only needed for the sam-* targets, never by `make test`.

CFN_LINT         ?= cfn-lint
CFN_LINT_VERSION := 1.51.0
SAM              ?= sam
EVENT            ?= events/s3-put.json
SAM_ENV          ?= default

.PHONY: lint-template install-cfn-lint sam-validate sam-build sam-deploy sam-deploy-guided sam-invoke build-ProcessorFunction

## lint-template: cfn-lint template.yaml, as is and in both deployment modes, direct and buffered (fails in CI without cfn-lint).
lint-template:
	@if ! command -v $(CFN_LINT) >/dev/null 2>&1; then \
		if [ "$$CI" = "true" ]; then echo "cfn-lint not found (CI=true): make install-cfn-lint" >&2; exit 1; fi; \
		echo "warning: cfn-lint not found, template lint skipped (make install-cfn-lint)" >&2; exit 0; \
	fi; \
	set -e; \
	$(CFN_LINT) template.yaml; \
	$(CFN_LINT) --parameters TrailSource=new-bucket CreateTrail=true LogIdentityPoolDataEvents=true EnableAthena=true EnableBatchOperationsRole=true 'PostureSchedule=rate(1 day)' -- template.yaml; \
	$(CFN_LINT) --parameters TrailSource=existing-bucket ExistingTrailBucketName=example-trail-bucket TrailKeyPrefix=org DetailLevel=basic EnableIdempotency=false -- template.yaml; \
	$(CFN_LINT) --parameters Delivery=buffered TrailSource=new-bucket CreateTrail=true OrganizationId=o-a1b2c3d4e5 Timeout=300 BatchSize=1000 BatchingWindow=120 MaxReceiveCount=10 -- template.yaml; \
	$(CFN_LINT) --parameters Delivery=buffered TrailSource=existing-bucket ExistingTrailBucketName=example-trail-bucket TrailKeyPrefix=org RealtimeFindings=true NotifyEmail=soc@example.com -- template.yaml; \
	echo "cfn-lint: template.yaml clean"

## install-cfn-lint: the pinned cfn-lint (Python).
install-cfn-lint:
	python3 -m pip install --user "cfn-lint==$(CFN_LINT_VERSION)"

## build-ProcessorFunction: called by `sam build` (BuildMethod: makefile) with ARTIFACTS_DIR set.
build-ProcessorFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/processor

sam-validate:
	$(SAM) validate --lint

## sam-build: build the function for Lambda (arm64) into .aws-sam/.
sam-build:
	$(SAM) build

## sam-deploy: deploy with samconfig.toml (SAM_ENV=default|existing-bucket); sam-deploy-guided asks.
sam-deploy: sam-build
	$(SAM) deploy --config-env $(SAM_ENV)

sam-deploy-guided: sam-build
	$(SAM) deploy --guided

## sam-invoke: run the function locally in Docker on a sample event (EVENT=events/...).
sam-invoke: sam-build
	$(SAM) local invoke ProcessorFunction -e $(EVENT)
