# Chapterhouse build entry points. The repository is a go.work workspace, so
# `./...` at the root reaches no module: Go commands use the `work` pattern,
# which covers every workspace module.
SHELL := /bin/bash
BIN := $(CURDIR)/.bin
GOOGLE_PROTO_FILES := google-proto-files@6.0.1
# Only the third-party protos we import are copied in.
GOOGLE_PROTOS := google/api/annotations.proto google/api/http.proto \
	google/api/field_behavior.proto google/api/resource.proto \
	google/api/client.proto google/api/launch_stage.proto google/type/date.proto

.PHONY: tools protodeps generate lint test run bench build check-generated breaking

tools: ## Build the pinned generators and buf into .bin/
	cd tools && GOWORK=off GOBIN=$(BIN) go install tool
	cd tools/buf && GOWORK=off GOBIN=$(BIN) go install tool

protodeps: ## Fetch the google/api protos from npm into third_party/googleapis
	@if [ ! -f third_party/googleapis/google/type/date.proto ]; then \
		tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent $(GOOGLE_PROTO_FILES) >/dev/null && tar xzf google-proto-files-*.tgz) && \
		mkdir -p third_party/googleapis && \
		for f in $(GOOGLE_PROTOS); do install -D -m 0644 $$tmp/package/$$f third_party/googleapis/$$f; done && \
		rm -rf $$tmp; \
	fi

generate: tools protodeps ## Regenerate proto/gen/go from proto/
	rm -rf proto/gen/go/chapterhouse proto/gen/go/openapi/*.json
	PATH=$(BIN):$$PATH $(BIN)/buf generate
	cd proto/gen/go && go mod tidy >/dev/null 2>&1 || true

lint: tools protodeps ## buf lint and go vet across every module
	$(BIN)/buf lint
	go vet work

breaking: tools protodeps ## buf breaking against the previous commit's protos
	bash .ci/breaking.sh

build:
	go build work

test: ## Every test in every module (needs redis-server on PATH)
	go test -count=1 -race work

bench:
	go test -run='^$$' -bench=. -benchmem work

run: ## The whole system in one process on an embedded store (ARGS for devstack flags)
	go run ./cmd/devstack $(ARGS)
