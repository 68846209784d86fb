# ui: ncurses views, plots and input (included by Makefile.am). Core never links this.
UI_LIB =
