# benchmarks: built by 'make bench', never part of make check.
