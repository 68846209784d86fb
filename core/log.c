/* log: the process-wide log sink. The sink pointer is the one piece of global mutable state
 * here: it is set once at start-up by the program (before threads start) and only read after. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static dl_log_sink g_sink;
static void *g_user;

void dl_log_set_sink(dl_log_sink sink, void *user)
{
    g_sink = sink;
    g_user = user;
}

void dl_log(dl_log_level level, const char *fmt, ...)
{
    if (!g_sink)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_sink(level, line, g_user);
}

void dl_log_stderr_sink(dl_log_level level, const char *line, void *user)
{
    (void)user;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    _Static_assert(sizeof names / sizeof *names == DL_LOG_ERROR + 1,
                   "log level names"); /* tripwire */
    if (level == DL_LOG_DEBUG)
        return;
    fprintf(stderr, "dllab: %s%s%s\n", level == DL_LOG_INFO ? "" : names[level],
            level == DL_LOG_INFO ? "" : ": ", line);
}
