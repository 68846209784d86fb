# core/nn and core/models: layer nodes, the ResNet zoo and heads, the model API; their suite.
core_libdlcore_a_SOURCES += \
	core/nn/nn.h core/nn/nn_internal.h core/nn/node.c core/nn/layers.c core/nn/layers_misc.c \
	core/models/model.h core/models/model_internal.h core/models/resnet.h core/models/resnet.c \
	core/models/init.c core/models/model.c

check_PROGRAMS += tests/check_models
tests_check_models_SOURCES = tests/check_models.c tests/testutil.c tests/testutil.h
tests_check_models_CFLAGS = $(TEST_CFLAGS)
tests_check_models_LDADD = $(TEST_LDADD)
TESTS += tests/check_models
