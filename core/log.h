/* log: the engine's only way to say something. Core never prints; it hands lines to a sink the
 * program installs (stderr for the CLI, the event log for the UI). Without a sink, lines are
 * dropped. */
#ifndef DL_LOG_H
#define DL_LOG_H

typedef enum dl_log_level { DL_LOG_DEBUG, DL_LOG_INFO, DL_LOG_WARN, DL_LOG_ERROR } dl_log_level;
typedef void (*dl_log_sink)(dl_log_level level, const char *line, void *user);

/* Installs the process-wide sink (NULL to drop). The sink may be called from any thread. */
void dl_log_set_sink(dl_log_sink sink, void *user);
void dl_log(dl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A ready-made sink that writes "dllab: warning: ..." lines to stderr. */
void dl_log_stderr_sink(dl_log_level level, const char *line, void *user);

#endif
