# core/learner: this room's sources and check suites (included by Makefile.am).
