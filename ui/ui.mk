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
