# core: the engine's foundation (status codes, log sink, RNG, tensors, parameter store).
core_libdlcore_a_SOURCES += \
	core/err.c core/err.h \
	core/log.c core/log.h \
	core/rng.c core/rng.h \
	core/tensor.c core/tensor.h \
	core/tensor_map.c core/tensor_map.h \
	core/params.c core/params.h \
	core/blas_select.c core/blas_select.h \
	core/file.c core/file.h \
	core/printable.c core/printable.h \
	core/clock.c core/clock.h \
	core/fmt.c core/fmt.h \
	core/numfmt.c core/numfmt.h
