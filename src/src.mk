# src: the dllab program (entry point, command table, one file per command).
src_dllab_SOURCES += \
	src/main.c src/commands.h src/commands.def \
	src/cmd-version.c
src_dllab_SOURCES += src/cmd-data.c
src_dllab_SOURCES += src/runs-util.c src/runs-util.h src/show-text.h src/cmd-runs.c src/cmd-show.c \
	src/cmd-export.c src/cmd-tag.c src/cmd-note.c src/cmd-baseline.c src/cmd-rm.c
src_dllab_SOURCES += src/cmd-weights.c src/weights-arch.c src/weights-arch.h
src_dllab_SOURCES += src/cmd-train.c src/cmd-attach.c src/cmd-steer.c src/cmd-lrfind.c src/cmd-interpret.c src/cmd-predict.c \
	src/train-setup.c src/train-setup.h src/train-run.h \
	src/train-progress.c src/train-progress.h src/interp-report.c src/interp-report.h
src_dllab_SOURCES += src/cmd-home.c src/cmd-show-batch.c
src_dllab_SOURCES += src/cmd-compare.c src/export-plot.c src/export-plot.h src/plot-cairo.c src/plot-cairo.h
src_dllab_SOURCES += src/cmd-sweep.c src/sweep-grid.c src/sweep-grid.h
# the figure writer's pure parts (ticks, labels) and its files, without the rest of dllab
check_PROGRAMS += tests/check_plot_cairo
tests_check_plot_cairo_SOURCES = tests/check_plot_cairo.c src/plot-cairo.c src/plot-cairo.h \
	tests/testutil.c tests/testutil.h
tests_check_plot_cairo_CFLAGS = $(TEST_CFLAGS)
tests_check_plot_cairo_LDADD = $(TEST_LDADD) $(CAIRO_LIBS)
TESTS += tests/check_plot_cairo
