# vextrus.deploy — developer and CI entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
BIN         := $(CURDIR)/$(VENV)/bin
PYTHON      ?= python3
LOCAL       := $(CURDIR)/.local
COLLECTION  := $(LOCAL)/collections/ansible_collections/vextrus/deploy
NODES       ?= both
# pytest-xdist workers of the tests that may run in parallel (tests/pytest.sh); 0: one process
TEST_WORKERS ?= 2

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(LOCAL)/bin:$(PATH)
export VEXTRUS_KUBECONFIG := $(LOCAL)/kubeconfig
export VEXTRUS_TEST_WORKERS := $(TEST_WORKERS)

EXAMPLE     := examples/finance-service
PNPM_VERSION = $(shell sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' $(EXAMPLE)/package.json)

.PHONY: help venv pnpm promtool cluster-up cluster-down cluster-status unit lint sanity example-test test check demo ee changelog clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@echo "== python venv ($(VENV)) from requirements.txt"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(COLLECTION):
	@mkdir -p $(dir $(COLLECTION))
	@ln -sfn ../../../.. $(COLLECTION)

venv: $(VENV)/.installed $(COLLECTION) ## create the Python venv and link the checkout as vextrus.deploy

pnpm: ## install the pnpm version the example workspace pins (packageManager)
	@test "$$(pnpm --version 2>/dev/null)" = "$(PNPM_VERSION)" || { echo "== pnpm $(PNPM_VERSION)"; npm install --global --silent pnpm@$(PNPM_VERSION); }

cluster-up: venv ## start Docker engine, registry, base images and the local Kubernetes (NODES=kwok|real|both)
	@bash localcluster/infra/up.sh
	@NODES=$(NODES) bash localcluster/up.sh

cluster-down: ## stop everything cluster-up started
	@bash localcluster/down.sh
	@bash localcluster/infra/down.sh

cluster-status: ## show the state of the local cluster and its infrastructure
	@bash localcluster/status.sh || true
	@bash localcluster/infra/status.sh || true

unit: venv ## unit tests only (no cluster needed)
	@$(BIN)/pytest tests/unit -q

lint: venv promtool ## ansible-lint (production profile); promtool check rules of the service's alert rules
	@$(BIN)/ansible-lint
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BIN)/ansible-playbook -i localhost, tests/integration/alert_rules/render_rules.yml -e rules_file=$$tmp/rules.yml >$$tmp/render.log || { cat $$tmp/render.log; exit 1; }; \
	promtool check rules $$tmp/rules.yml

sanity: venv ## ansible-test sanity on a copy laid out as ansible_collections/vextrus/deploy
	@command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
	@bash tests/sanity.sh

example-test: pnpm ## the example service's own unit tests
	@cd $(EXAMPLE) && pnpm install --frozen-lockfile --silent && pnpm -r build && pnpm -r --reporter-hide-prefix test

promtool: ## install Debian's prometheus package for promtool (the alert rules' tests; the daemon is not started)
	@command -v promtool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

check: venv promtool ## every check and test (lint, sanity, example, unit, integration, molecule); needs `make cluster-up`
	@bash tests/check.sh

test: venv ## bring the infrastructure up, run every check and test, bring it down again
	@rc=0; \
	$(MAKE) --no-print-directory cluster-up || rc=$$?; \
	if [ $$rc -eq 0 ]; then $(MAKE) --no-print-directory check || rc=$$?; fi; \
	$(MAKE) --no-print-directory cluster-down || true; \
	$(BIN)/python tests/summary.py .local/test-results.xml || true; \
	exit $$rc

demo: venv ## bring up the local cluster, build the example service, run weeks 1 -> 4, print the reports (ARGS="-e ..." adds extra vars)
	@bash localcluster/infra/up.sh
	@NODES=$(NODES) bash localcluster/up.sh
	@$(BIN)/ansible-playbook -i inventories/local playbooks/demo.yml $(ARGS)
	@echo "Reports: $(CURDIR)/reports/ (one Markdown and one JSON file per week)"

ee: venv ## build the AWX execution environment here (Python base, awx/ee/local.py) and push it to the local registry
	@$(BIN)/python awx/ee/local.py $(ARGS)

changelog: venv ## release notes: changelogs/changelog.yaml from the fragments, and CHANGELOG.rst
	@$(BIN)/antsibull-changelog lint
	@$(BIN)/antsibull-changelog generate
	@$(BIN)/python changelogs/format.py changelogs/changelog.yaml changelogs/config.yaml

clean: ## remove local state (not the build cache)
	@bash localcluster/down.sh --purge || true
	@rm -rf $(LOCAL)/collections reports
