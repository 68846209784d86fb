# src: the dllab program (entry point, command table, one file per command).
src_dllab_SOURCES += \
	src/main.c src/commands.h src/commands.def \
	src/cmd-version.c
src_dllab_SOURCES += src/cmd-data.c
