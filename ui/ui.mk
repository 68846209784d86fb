# ui: ncurses views, plots and input (included by Makefile.am). Core never links this.
UI_LIB = ui/libdlui.a
noinst_LIBRARIES += ui/libdlui.a
ui_libdlui_a_SOURCES = \
	ui/grid.c ui/grid.h \
	ui/canvas.c ui/canvas.h \
	ui/series.c ui/series.h \
	ui/axes.c ui/axes.h \
	ui/plot.c ui/plot.h \
	ui/colors.c ui/colors.h \
	ui/image.c ui/image.h \
	ui/actions.c ui/actions.h ui/actions.def
ui_libdlui_a_SOURCES += \
	ui/term.c ui/term.h \
	ui/app.c ui/app.h
ui_libdlui_a_SOURCES += ui/layout.c ui/layout.h
# The UI's check suite: widgets rendered into in-memory grids, compared with tests/fixtures/ui/.
check_PROGRAMS += tests/check_ui
tests_check_ui_SOURCES = tests/check_ui.c tests/golden.c tests/golden.h tests/testutil.c tests/testutil.h
tests_check_ui_CFLAGS = $(TEST_CFLAGS)
tests_check_ui_LDADD = ui/libdlui.a $(TEST_LDADD) $(NCURSES_LIBS)
TESTS += tests/check_ui
ui_libdlui_a_SOURCES += ui/feed.c ui/feed.h ui/feed-store.c ui/feed-store.h
ui_libdlui_a_SOURCES += ui/screens.h ui/screen-common.c ui/keybar.c ui/cmd-text.c ui/progress-text.c ui/screen-train.c ui/screen-lrfind.c ui/screen-confusion.c ui/screen-run.c ui/screen-attach.c ui/screen-home.c ui/screen-newrun.c ui/screen-images.c ui/screen-interp.c ui/ui.c ui/ui.h
check_PROGRAMS += tests/check_ui_screens
tests_check_ui_screens_SOURCES = tests/check_ui_screens.c tests/golden.c tests/golden.h tests/testutil.c tests/testutil.h
tests_check_ui_screens_CFLAGS = $(TEST_CFLAGS)
tests_check_ui_screens_LDADD = ui/libdlui.a $(TEST_LDADD) $(NCURSES_LIBS)
TESTS += tests/check_ui_screens
# End-to-end in a real terminal (tmux; skips when tmux or the fashion-mnist files are missing).
TESTS += tests/ui/tmux.sh tests/ui/walk.sh tests/ui/attach.sh
EXTRA_DIST += tests/ui/tmux.sh tests/ui/walk.sh tests/ui/lib.sh tests/ui/attach.sh
# The LR finder's suggestion keys (v s m l) and markers in a real terminal.
TESTS += tests/ui/lrfind.sh
EXTRA_DIST += tests/ui/lrfind.sh
ui_libdlui_a_SOURCES += ui/screen-compare.c ui/screen-compare.h
# Per-frame drawing cost of the dashboard (make bench).
EXTRA_PROGRAMS += ui/bench_ui
ui_bench_ui_SOURCES = ui/bench_ui.c
ui_bench_ui_LDADD = ui/libdlui.a core/libdlcore.a $(NCURSES_LIBS) $(CORE_LIBS)
CLEANFILES += ui/bench_ui
bench: ui/bench_ui
	ui/bench_ui
EXTRA_DIST += tests/ui/bench-tui.sh
