# Chapterhouse build entry points. The repository is a go.work workspace, so
# `./...` at the root reaches no module: Go commands use the `work` pattern,
# which covers every workspace module.
SHELL := /bin/bash
BIN := $(CURDIR)/.bin
# The pinned Go release (go.work's toolchain line), for every go command here.
export GOTOOLCHAIN := $(shell sed -n 's/^toolchain //p' go.work)
GOOGLE_PROTO_FILES := google-proto-files@6.0.1
# Only the third-party protos we import are copied in.
GOOGLE_PROTOS := google/api/annotations.proto google/api/http.proto \
	google/api/field_behavior.proto google/api/resource.proto \
	google/api/client.proto google/api/launch_stage.proto google/type/date.proto
# buf.validate (protovalidate) rules: the .proto source comes from the Go
# module proxy; its Go code is buf.build/gen/go/bufbuild/protovalidate.
PROTOVALIDATE := github.com/bufbuild/protovalidate@v1.2.2

.PHONY: tools protodeps generate lint vulncheck test run docs-ui bench bench-system build check-generated breaking

tools: ## Build the pinned generators, buf, golangci-lint and govulncheck into .bin/
	cd tools && GOWORK=off GOBIN=$(BIN) go install tool
	cd tools/buf && GOWORK=off GOBIN=$(BIN) go install tool
	cd tools/lint && GOWORK=off GOBIN=$(BIN) go install tool
	cd tools/vuln && GOWORK=off GOBIN=$(BIN) go install tool

protodeps: ## Fetch the third-party protos we import into third_party/ (git-ignored)
	@if [ ! -f third_party/googleapis/google/type/date.proto ]; then \
		tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent $(GOOGLE_PROTO_FILES) >/dev/null && tar xzf google-proto-files-*.tgz) && \
		mkdir -p third_party/googleapis && \
		for f in $(GOOGLE_PROTOS); do install -D -m 0644 $$tmp/package/$$f third_party/googleapis/$$f; done && \
		rm -rf $$tmp; \
	fi
	@if ! grep -qs '$(PROTOVALIDATE)' third_party/protovalidate/VERSION; then \
		dir=$$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json $(PROTOVALIDATE) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
		[ -n "$$dir" ] && \
		install -D -m 0644 $$dir/proto/protovalidate/buf/validate/validate.proto third_party/protovalidate/buf/validate/validate.proto && \
		echo '$(PROTOVALIDATE)' > third_party/protovalidate/VERSION; \
	fi

generate: tools protodeps ## Regenerate proto/gen/go from proto/
	rm -rf proto/gen/go/chapterhouse proto/gen/go/openapi/*.json .cache/openapiv2
	PATH=$(BIN):$$PATH $(BIN)/buf generate
	go run ./gateway/cmd/openapi-gen -in .cache/openapiv2/chapterhouse.swagger.json -out proto/gen/go/openapi/chapterhouse.openapi.json
	cd proto/gen/go && go mod tidy >/dev/null 2>&1 || true

lint: tools protodeps ## buf lint, go vet and golangci-lint across every module
	$(BIN)/buf lint
	go vet work
	bash .ci/lint.sh

vulncheck: tools ## govulncheck every module against the pinned vulnerability database
	bash .ci/vulncheck.sh

breaking: tools protodeps ## buf breaking against the previous commit's protos
	bash .ci/breaking.sh

build:
	go build work

test: ## Every test in every module (needs redis-server on PATH)
	@$(MAKE) --no-print-directory docs-ui || echo "note: no Swagger UI for /docs (needs npm); its test checks only that /docs says so"
	go test -count=1 -race work

bench:
	go test -run='^$$' -bench=. -benchmem work

bench-system: ## The system against a bare REST → gRPC → Redis chain, as ratios (about 2 minutes; needs redis-server)
	cd cmd/devstack && go run ./benchsystem -out $(CURDIR)/bench-system.json $(ARGS)

run: ## The whole system in one process on an embedded store (ARGS for devstack flags)
	@$(MAKE) --no-print-directory docs-ui || echo "note: no Swagger UI for /docs (needs npm); /openapi.json is served"
	@# Built, then run: `go run` ends with exit status 1 when Ctrl-C stops
	@# its program, however cleanly the program stopped.
	@echo "Building the devstack into .bin/devstack (the first build compiles every dependency and takes a few minutes)..."
	@mkdir -p $(BIN); set -o pipefail; go build -v -o $(BIN)/devstack ./cmd/devstack 2>&1 | \
		awk '/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~+-]+)*$$/ { n++; printf "\r  %d packages compiled", n; fflush(); next } { print } END { if (n) print "" }'
	@$(BIN)/devstack $(ARGS)

DOCS_UI := gateway/internal/docs/ui
docs-ui: ## Swagger UI for /docs at the version and integrity in gateway/internal/docs/ui/VERSION (git-ignored files)
	@if [ ! -f $(DOCS_UI)/swagger-ui-bundle.js ]; then \
		read -r pkg integrity < $(DOCS_UI)/VERSION && tmp=$$(mktemp -d) && \
		(cd $$tmp && npm pack --silent $$pkg >/dev/null) && \
		got=$$(node -e "process.stdout.write('sha512-'+require('crypto').createHash('sha512').update(require('fs').readFileSync(process.argv[1])).digest('base64'))" $$tmp/*.tgz) && \
		if [ "$$got" != "$$integrity" ]; then echo "docs-ui: $$pkg is $$got, want $$integrity"; rm -rf $$tmp; exit 1; fi && \
		tar xzf $$tmp/*.tgz -C $$tmp && \
		for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do install -m 0644 $$tmp/package/$$f $(DOCS_UI)/$$f || exit 1; done && \
		rm -rf $$tmp; \
	fi

# --- Images and Kubernetes (deploy/, charts/chapterhouse) -------------------
# The services are the directories under services/; with the gateway they
# are the binaries (and the images). CI scripts ask `make list-binaries`.
SERVICES := $(notdir $(wildcard services/*))
BINARIES := $(SERVICES) gateway
BINARIES_DIR := $(CURDIR)/out/bin
IMAGE_REGISTRY ?= ghcr.io/tjsia
IMAGE_TAG ?= 0.1.0

.PHONY: binaries images images-test chart-test k8s-test list-binaries

list-binaries: ## The binaries, one line: the services, then the gateway
	@echo $(BINARIES)

binaries: docs-ui ## The five binaries, static (CGO_ENABLED=0), into out/bin/ (git-ignored)
	@mkdir -p $(BINARIES_DIR)
	@for b in $(BINARIES); do \
		if [ -d services/$$b ]; then pkg=./services/$$b/cmd/$$b; else pkg=./$$b/cmd/$$b; fi; \
		echo "go build $$pkg -> out/bin/$$b"; \
		CGO_ENABLED=0 go build -trimpath -buildvcs=auto -ldflags='-s -w' -o $(BINARIES_DIR)/$$b $$pkg || exit 1; \
	done

images: docs-ui ## Print the docker build commands for the five images (no engine here)
	@echo "# Build from the repository root; deploy/Dockerfile builds one binary per image."
	@for b in $(BINARIES); do \
		echo "docker build -f deploy/Dockerfile --build-arg BINARY=$$b --build-arg VERSION=$(IMAGE_TAG) -t $(IMAGE_REGISTRY)/chapterhouse/$$b:$(IMAGE_TAG) ."; \
	done

images-test: ## Binaries are static, run as uid 65532 on a read-only root, and serve
	bash .ci/images.sh

chart-test: tools ## helm lint --strict, helm template for every values set, strict decode and policy test
	bash .ci/chart.sh

k8s-test: tools ## Install the chart into a local kube-apiserver/etcd/kwok control plane and check rollouts
	bash .ci/k8s-install.sh
