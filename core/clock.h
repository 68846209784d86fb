/* clock: the one monotonic clock of dllab (seconds since an arbitrary start, never going back
 * when the wall clock is set): durations, throughput, timeouts and UI frame pacing use it. */
#ifndef DL_CLOCK_H
#define DL_CLOCK_H

double dl_clock_now(void);

#endif
