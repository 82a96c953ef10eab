# kubesaga — development targets (kubebuilder v4 layout). `make help` lists them.

# Kubernetes version of the envtest binaries built by hack/envtest.sh (pinned by
# hack/envtest/kubernetes/go.mod).
ENVTEST_K8S_VERSION ?= 1.37.2
# KUBEBUILDER_ASSETS: where hack/envtest.sh puts etcd, kube-apiserver and kubectl
# (setup-envtest's layout). Computed without building anything; `make envtest` builds.
ifndef ENVTEST_ASSETS
ENVTEST_ASSETS := $(shell K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh --path)
endif

# Local control plane state (kubeconfig, pid, log) for cluster-up, run and demo.
LOCAL_DIR ?= $(CURDIR)/.local
CLUSTER_KUBECONFIG ?= $(LOCAL_DIR)/kubeconfig

# Iterations for `make bench`.
N ?= 2000

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

GO ?= go

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'.
.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRDs (config/crd/bases) and RBAC (config/rbac) from api/ and controllers/ markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@$(MAKE) --no-print-directory chart-crds

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods (zz_generated.deepcopy.go) for api/.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt against the code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet against the code.
	$(GO) vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml: the kubebuilder linter set).
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Check .golangci.yml against golangci-lint's schema.
	$(GOLANGCI_LINT) config verify

.PHONY: license
license: ## Fail, listing them, when tracked Go files lack the header of hack/boilerplate.go.txt.
	hack/license.sh --check

.PHONY: license-fix
license-fix: ## Prepend the header of hack/boilerplate.go.txt to the tracked Go files that lack it.
	hack/license.sh --fix

.PHONY: verify
verify: ## Fail, showing the diff, when generated code, manifests or formatting are stale.
	hack/verify-generated.sh $(MAKE) --no-print-directory manifests generate fmt

.PHONY: test
test: verify license vet lint envtest helm ## Verify, vet, lint, then run every test (envtest suites, chart checks, e2e under test/e2e) with coverage.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" $(GO) test ./... -count=1 -coverprofile cover.out
	@$(MAKE) --no-print-directory test-promrules

.PHONY: test-promrules
test-promrules: ## Check the chart's alert rules and dashboard with Prometheus' parsers (test/promrules, a module of its own).
	cd test/promrules && $(GO) test ./... -count=1

.PHONY: envtest
envtest: ## Build etcd, kube-apiserver and kubectl from Go modules (first time ~5-7 min), print KUBEBUILDER_ASSETS.
	@K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build bin/manager and every other main package under cmd/ (bin/carts, bin/stocks, bin/sales, ...).
	$(GO) build -o $(LOCALBIN)/ ./cmd/...

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the current kubeconfig (make cluster-up; export KUBECONFIG=.local/kubeconfig).
	$(GO) run ./cmd/manager $(ARGS)

# Image registry/prefix and tag for docker-build (Dockerfile: one target per binary).
IMG_PREFIX ?= kubesaga
IMG_TAG ?= dev
IMAGES ?= manager carts stocks sales gateway

.PHONY: docker-build
docker-build: ## Docker is not available on these machines: print the commands that build the images elsewhere.
	@echo "docker is not available here; build the images elsewhere with:"
	@for t in $(IMAGES); do echo "  docker build --target $$t -t $(IMG_PREFIX)/$$t:$(IMG_TAG) ."; done

##@ Local cluster

.PHONY: cluster-up
cluster-up: envtest localcluster ## Start etcd + kube-apiserver on 127.0.0.1 with the CRDs; kubeconfig in .local/kubeconfig.
	$(LOCALCLUSTER) up -dir=$(LOCAL_DIR) -assets=$(ENVTEST_ASSETS) -crd-dirs=config/crd/bases
	$(KUBECTL) --kubeconfig=$(CLUSTER_KUBECONFIG) get namespaces

.PHONY: cluster-down
cluster-down: localcluster ## Stop the local control plane; no etcd or kube-apiserver is left behind.
	$(LOCALCLUSTER) down -dir=$(LOCAL_DIR)

.PHONY: cluster-status
cluster-status: localcluster ## Tell whether the local control plane runs.
	@$(LOCALCLUSTER) status -dir=$(LOCAL_DIR) || true

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests envtest ## Install the CRDs (and the admission policy that adds the Order finalizer) into the current kubeconfig's cluster.
	$(KUBECTL) apply --server-side -f config/crd/bases
	$(KUBECTL) apply --server-side -f config/admission

.PHONY: uninstall
uninstall: manifests envtest ## Remove the CRDs from the current kubeconfig's cluster. ignore-not-found=true ignores missing ones.
	$(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f config/admission
	$(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f config/crd/bases

##@ Deployment (kustomize, without Helm)

# Manager image for deploy/build-installer.
IMG ?= $(IMG_PREFIX)/manager:$(IMG_TAG)
# kustomize is the one built into kubectl (the envtest kubectl, `make envtest`).
KUSTOMIZE ?= $(KUBECTL) kustomize
# An overlay over config/default that only sets the image, so IMG never edits a committed file
# (kubebuilder's `kustomize edit set image` would).
DEPLOY_OVERLAY ?= $(LOCAL_DIR)/deploy-overlay

.PHONY: deploy-overlay
deploy-overlay:
	@mkdir -p $(DEPLOY_OVERLAY)
	@img='$(IMG)'; name="$${img%:*}"; tag="$${img##*:}"; \
	 case "$$img" in *@sha256:*) name="$${img%@*}"; tag=""; digest="$${img#*@}";; esac; \
	 if [ "$$name" = "$$img" ]; then tag=latest; fi; \
	 { echo "apiVersion: kustomize.config.k8s.io/v1beta1"; echo "kind: Kustomization"; \
	   echo "resources:"; echo "- $$(realpath --relative-to=$(DEPLOY_OVERLAY) $(CURDIR)/config/default)"; \
	   echo "images:"; echo "- name: kubesaga/manager"; echo "  newName: $$name"; \
	   if [ -n "$$digest" ]; then echo "  digest: $$digest"; else echo "  newTag: \"$$tag\""; fi; \
	 } > $(DEPLOY_OVERLAY)/kustomization.yaml

.PHONY: build-installer
build-installer: manifests generate envtest deploy-overlay ## Write dist/install.yaml (CRD, RBAC, namespace, manager; IMG=...): `kubectl apply -f dist/install.yaml` installs kubesaga without Helm.
	@mkdir -p dist
	$(KUSTOMIZE) $(DEPLOY_OVERLAY) > dist/install.yaml
	@echo "build-installer: dist/install.yaml ($(IMG))"

.PHONY: deploy
deploy: manifests envtest deploy-overlay ## Deploy the operator (config/default, IMG=...) to the cluster of the current kubeconfig.
	$(KUSTOMIZE) $(DEPLOY_OVERLAY) | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: envtest deploy-overlay ## Remove what make deploy installed, CRD included (and so every Order). ignore-not-found=true ignores missing ones.
	$(KUSTOMIZE) $(DEPLOY_OVERLAY) | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: bench
bench: envtest ## Run the throughput benchmark (go run ./test/bench -n=N; N ?= 2000).
	@if [ "$$($(GO) list -f '{{.Name}}' ./test/bench 2>/dev/null)" = main ]; then \
		KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" $(GO) run ./test/bench -n=$(N); \
	else \
		echo "bench: not built yet (no main package in test/bench)"; \
	fi

# Ports of `make demo` on 127.0.0.1 (override on the command line, e.g. DEMO_CARTS_PORT=28081).
DEMO_CARTS_PORT ?= 18081
DEMO_STOCKS_PORT ?= 18082
DEMO_SALES_PORT ?= 18083
DEMO_METRICS_PORT ?= 18090
DEMO_PROBE_PORT ?= 18091
DEMO_NATS_PORT ?= 18222
DEMO_NATS_MONITOR_PORT ?= 18223
DEMO_GATEWAY_PORT ?= 18088

.PHONY: demo
demo: envtest localcluster ## Run the whole system locally (control plane, services, manager) and two sample Orders; again: reuses it.
	@echo "==> building bin/manager bin/carts bin/stocks bin/sales bin/gateway bin/demo"
	$(GO) build -o $(LOCALBIN)/ ./cmd/...
	@echo "==> starting the local control plane (make cluster-up)"
	@$(MAKE) --no-print-directory cluster-up
	$(LOCALBIN)/demo up -dir=$(LOCAL_DIR) -bin=$(LOCALBIN) -kubectl=$(KUBECTL) -samples=config/samples \
		-carts-port=$(DEMO_CARTS_PORT) -stocks-port=$(DEMO_STOCKS_PORT) -sales-port=$(DEMO_SALES_PORT) \
		-metrics-port=$(DEMO_METRICS_PORT) -probe-port=$(DEMO_PROBE_PORT) \
		-nats-port=$(DEMO_NATS_PORT) -nats-monitor-port=$(DEMO_NATS_MONITOR_PORT) -gateway-port=$(DEMO_GATEWAY_PORT)

.PHONY: demo-down
demo-down: ## Stop everything make demo started (manager, services, control plane) and check that no process is left.
	$(GO) build -o $(LOCALBIN)/demo ./cmd/demo
	$(LOCALBIN)/demo down -dir=$(LOCAL_DIR)

.PHONY: clean
clean: ## Remove built binaries and cover.out (not bin/ tools, not the envtest cache). Stops nothing.
	rm -f cover.out
	cd $(LOCALBIN) 2>/dev/null && for f in $(notdir $(wildcard cmd/*)); do rm -f "$$f"; done || true

.PHONY: clean-tools
clean-tools: ## Remove bin/ entirely (tools are reinstalled on demand).
	rm -rf $(LOCALBIN)

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(CURDIR)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

# bin/ and the envtest binaries (kubectl) come first on PATH, for recipes and for tests.
export PATH := $(LOCALBIN):$(ENVTEST_ASSETS):$(PATH)

## Tool Binaries
KUBECTL ?= $(ENVTEST_ASSETS)/kubectl
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GINKGO ?= $(LOCALBIN)/ginkgo
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm
LOCALCLUSTER ?= $(LOCALBIN)/localcluster

## Tool Versions
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GINKGO_VERSION ?= v2.34.0
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v4.3.1

.PHONY: controller-gen
controller-gen: | $(LOCALBIN) ## Install controller-gen into bin/ if missing.
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: ginkgo
ginkgo: | $(LOCALBIN) ## Install the ginkgo CLI into bin/ if missing.
	$(call go-install-tool,$(GINKGO),github.com/onsi/ginkgo/v2/ginkgo,$(GINKGO_VERSION))

.PHONY: golangci-lint
golangci-lint: | $(LOCALBIN) ## Install golangci-lint into bin/ if missing.
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: helm
helm: | $(LOCALBIN) ## Install helm v4 into bin/ if missing.
	$(call go-install-tool,$(HELM),helm.sh/helm/v4/cmd/helm,$(HELM_VERSION),-ldflags=-X=helm.sh/helm/v4/internal/version.version=$(HELM_VERSION))

# localcluster is ours: rebuilt by go build (cached) every time, so it is never stale.
.PHONY: localcluster
localcluster: | $(LOCALBIN) ## Build bin/localcluster (the program behind cluster-up/cluster-down).
	$(GO) build -o $(LOCALCLUSTER) ./cmd/localcluster

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
# $4 - extra go install flags (optional), e.g. ldflags stamping the version
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$$(basename "$(1)-$(3)")" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Installing $${package} into $(LOCALBIN)" ;\
rm -f $(1) ;\
GOBIN=$(LOCALBIN) GOFLAGS= $(GO) install $(4) $${package} ;\
mv $(1) $(1)-$(3) ;\
} ;\
ln -sf $$(basename "$(1)-$(3)") $(1)
endef

##@ Charts

CHARTS ?= kubesaga carts stocks sales
CHART_CRDS_DIR ?= charts/kubesaga/templates/crds

.PHONY: chart-crds
chart-crds: ## Copy config/crd/bases into charts/kubesaga (behind crds.install, with the crds.keep annotation). Run after `make manifests`.
	@mkdir -p $(CHART_CRDS_DIR)
	@rm -f $(CHART_CRDS_DIR)/*.yaml
	@for f in config/crd/bases/*.yaml; do \
		out=$(CHART_CRDS_DIR)/$$(basename $$f); \
		{ echo '{{- if .Values.crds.install }}'; \
		  echo '{{- /* Generated by `make chart-crds` from '"$$f"'; do not edit: test/charts compares them. */}}'; \
		  awk '{ print } /^  annotations:$$/ && !done { print "    {{- if .Values.crds.keep }}"; print "    helm.sh/resource-policy: keep"; print "    {{- end }}"; done=1 }' $$f; \
		  echo '{{- end }}'; } > $$out; \
		echo "chart-crds: $$out"; \
	done

.PHONY: helm-lint
helm-lint: helm ## Run helm lint --strict on every chart.
	@for c in $(CHARTS); do $(HELM) lint --strict charts/$$c || exit 1; done

.PHONY: test-charts
test-charts: envtest helm ## Run only the chart checks (test/charts): lint, template + server dry-run, install, CRD sync, probes against the real binaries.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" HELM="$(HELM)" $(GO) test ./test/charts/... -count=1 -v

##@ Security

FUZZTIME ?= 10s
FUZZ_DIRS ?= services internal

.PHONY: fuzz
fuzz: ## Run every Fuzz* target under services/ and internal/ for FUZZTIME each, one target per go test run (bounded: targets x FUZZTIME). New crashers land in the package's testdata/fuzz.
	@set -e; n=0; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' $(FUZZ_DIRS) | sort); do \
		pkg=./$$(dirname $$file); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzz: $$n targets, $(FUZZTIME) each, no failure"

##@ Reliability

# Orders of the full chaos run (the short form inside `make test` runs 60).
CHAOS_ORDERS ?= 500
# Sagas of the checkout template run beside them (the short form runs 6).
CHAOS_SAGAS ?= 100
# Replay a run's faults with the seed it printed: make chaos CHAOS_SEED=1234.
CHAOS_SEED ?=
CHAOS_LOG ?= $(LOCAL_DIR)/chaos.log

.PHONY: chaos
chaos: envtest ## Chaos and HA tests, full form (test/chaos: CHAOS_ORDERS Orders and CHAOS_SAGAS Sagas under SIGKILLs and a slow service; two replicas, leader killed). Last line: the chaos verdict.
	@mkdir -p $(LOCAL_DIR)
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" KUBESAGA_CHAOS_ORDERS=$(CHAOS_ORDERS) KUBESAGA_CHAOS_SAGAS=$(CHAOS_SAGAS) KUBESAGA_CHAOS_SEED=$(CHAOS_SEED) \
		KUBESAGA_CHAOS_BUS_ORDERS=50 KUBESAGA_CHAOS_BUS_DOWN=30 \
		$(GO) test ./test/chaos/... -count=1 -v -timeout=40m 2>&1 | tee $(CHAOS_LOG)
	@echo "---- chaos summary (full log: $(CHAOS_LOG))"
	@grep -E '^(ha|chaos): (seed|replicas|orders)=' $(CHAOS_LOG)
	@grep -E '^bus: orders=' $(CHAOS_LOG) | tail -1
	@grep -E '^chaos: orders=' $(CHAOS_LOG) | tail -1
