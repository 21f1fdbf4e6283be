# The two commands of the README. Both install the system packages they need.
.PHONY: demo test deps

demo: deps
	cargo run --quiet --bin lecteur -- demo

test: deps
	scripts/test.sh

deps:
	scripts/install-deps.sh
