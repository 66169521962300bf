# Go on AWS Lambda benchmark platform. `make help` lists the targets.

SHELL := /bin/bash
GO ?= go
MODULES := function infra bench examples/thumbnail
ARCHES := amd64 arm64
DIST := dist/function
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOFLAGS_BUILD := -tags lambda.norpc -trimpath -ldflags "-s -w"
# jsii (the CDK's Go bridge) prints a banner on Node 20; it works, so keep the output clean.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

.PHONY: function
function: $(foreach a,$(ARCHES),$(DIST)/linux-$(a)/bootstrap) ## Build the Lambda binary for linux/amd64 and linux/arm64

$(DIST)/linux-%/bootstrap: FORCE
	@mkdir -p $(@D)
	cd function && CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build $(GOFLAGS_BUILD) -o ../$@ .
	@ls -l $@ | awk '{print "  built " $$NF " (" $$5 " bytes)"}'

.PHONY: loadgen
loadgen: $(foreach a,$(ARCHES),dist/loadgen/linux-$(a)/bootstrap) ## Build the load-generator Lambda (bench/cmd/loadgen) for linux/amd64 and linux/arm64

dist/loadgen/linux-%/bootstrap: FORCE
	@mkdir -p $(@D)
	cd bench && GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build $(GOFLAGS_BUILD) -o ../$@ ./cmd/loadgen
	@ls -l $@ | awk '{print "  built " $$NF " (" $$5 " bytes)"}'

.PHONY: FORCE
FORCE:

.PHONY: install
install: ## Build bench into $(GOBIN) or ~/go/bin (one self-contained binary: no Go or checkout needed to run it)
	cd bench && GOWORK=off CGO_ENABLED=0 $(GO) install -trimpath -ldflags "-s -w" .
	@echo "  installed $$(cd bench && GOWORK=off $(GO) list -f '{{.Target}}' .)"

.PHONY: bench
bench: ## Run the whole local benchmark suite (go run ./bench)
	$(GO) run ./bench

.PHONY: deps
deps: ## Download Go modules (and npm packages for the CDK CLI, and aws-lambda-rie)
	@for m in $(MODULES); do (cd $$m && $(GO) mod download) || exit 1; done
	$(MAKE) --no-print-directory node_modules rie

# AWS's Runtime Interface Emulator: the local Lambda's tests compare it with
# the emulator (bench/internal/locallambda/rie_test.go finds it in .cache/bin,
# on PATH or at $AWS_LAMBDA_RIE). The module proxy serves it at this version.
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE_STAMP := .cache/bin/.aws-lambda-rie-$(RIE_VERSION)

.PHONY: rie
rie: ## Install AWS's Runtime Interface Emulator (aws-lambda-rie) into .cache/bin
	@if [ ! -x .cache/bin/aws-lambda-rie ] || [ ! -f $(RIE_STAMP) ]; then \
		mkdir -p .cache/bin && rm -f .cache/bin/.aws-lambda-rie-* && \
		echo "GOBIN=$(CURDIR)/.cache/bin $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION)" && \
		GOBIN=$(CURDIR)/.cache/bin GOWORK=off GOFLAGS= $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION) && \
		touch $(RIE_STAMP); fi

.PHONY: fmt
fmt: ## Format all Go code
	gofmt -w $(MODULES)

.PHONY: fmt-check
fmt-check: ## Fail if any Go file is not gofmt-formatted
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: ## go vet every module on its own (GOWORK=off)
	@for m in $(MODULES); do echo "go vet: $$m"; (cd $$m && GOWORK=off $(GO) vet ./...) || exit 1; done

.PHONY: lint
lint: ## staticcheck every module on its own
	@for m in $(MODULES); do echo "staticcheck: $$m"; (cd $$m && GOWORK=off $(GO) run $(STATICCHECK) ./...) || exit 1; done

.PHONY: test-go
test-go: function ## go test -race every module on its own (GOWORK=off)
	@for m in $(MODULES); do echo "go test: $$m"; (cd $$m && GOWORK=off $(GO) test -race -count=1 -timeout 20m ./...) || exit 1; done

.PHONY: test
test: deps fmt-check vet lint test-go synth-check ## Everything CI runs: format, vet, staticcheck, tests with -race, CDK synth checks

.PHONY: docs
docs: ## Regenerate the --help blocks and example outputs in docs/ (runs the local benchmark)
	GO=$(GO) scripts/docs.sh

# --- infra (CDK) -------------------------------------------------------------
# The CDK CLI is pinned in package.json (aws-cdk@2: the Go CDK's cloud assembly
# needs it); cdk.json runs the Go app in infra/. CONTEXT passes CDK context, e.g.
#   make synth CONTEXT="-c architectures=arm64 -c memorySizes=1536,2048"
CDK := npx --no-install cdk
# cfn-lint (AWS's CloudFormation linter; pip install cfn-lint): on PATH, else
# where pyenv puts the commands of its Python (a non-interactive shell, as CI
# runs, may not have pyenv's shims on PATH).
CFN_LINT ?= $(or $(shell command -v cfn-lint 2>/dev/null),$(wildcard $(HOME)/.pyenv/shims/cfn-lint))
CONTEXT ?=
# Stacks for deploy, diff and destroy: all, or names such as STACKS=GoLambdaBenchMatrix.
STACKS ?= --all
OUTPUTS_FILE ?= cdk-outputs.json

.PHONY: node_modules
node_modules: ## Install the pinned aws-cdk CLI (npm ci, when the lockfile changed)
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund --loglevel=error; fi

.PHONY: synth
synth: node_modules ## cdk synth every stack into cdk.out/ (CONTEXT="-c key=value ...")
	$(CDK) synth --quiet $(CONTEXT)

.PHONY: synth-check
synth-check: node_modules ## cdk synth (cdk-nag AwsSolutions, strict), cfn-lint every template, then the project's own checks
	@if [ -z "$(CFN_LINT)" ]; then \
		echo "synth-check: cfn-lint not found on PATH or in $(HOME)/.pyenv/shims: install it (pip install cfn-lint) or pass CFN_LINT=/path/to/cfn-lint" >&2; exit 1; fi
	rm -rf cdk.out
	$(CDK) synth --quiet --strict $(CONTEXT)
	$(CFN_LINT) --version
	$(CFN_LINT) cdk.out/*.template.json
	cd infra && GOWORK=off $(GO) run ./cmd/templatecheck ../cdk.out

.PHONY: diff
diff: node_modules ## cdk diff against the deployed stacks (needs AWS credentials)
	$(CDK) diff $(STACKS) $(CONTEXT)

.PHONY: deploy
deploy: node_modules ## cdk deploy (needs AWS credentials); stack outputs go to cdk-outputs.json (OUTPUTS_FILE)
	$(CDK) deploy $(STACKS) $(CONTEXT) --outputs-file $(OUTPUTS_FILE)

.PHONY: destroy
destroy: node_modules ## cdk destroy every stack (asks first; FORCE=1 does not)
	$(CDK) destroy $(STACKS) $(CONTEXT) $(if $(FORCE),--force)

# --- end infra ---------------------------------------------------------------

.PHONY: clean
clean: ## Remove build output (dist/, cdk.out/)
	rm -rf dist cdk.out
