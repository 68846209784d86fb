# core/data: this room's sources and check suites (included by Makefile.am).
core_libdlcore_a_SOURCES += \
	core/data/data.h core/data/internal.h \
	core/data/image.c core/data/resize.c core/data/augment.c core/data/csv.c \
	core/data/sources.c core/data/idx.c core/data/mosaic.c core/data/archive.c \
	core/data/dataset.c core/data/loader.c
